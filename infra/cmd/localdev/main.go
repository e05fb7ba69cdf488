// Command localdev runs the system on this machine the way AWS runs it,
// without Docker: it replaces `sam local start-api` and `sam local invoke`.
//
//	localdev up [-port 3000] [-dynamodb-port 8000] [-sqs-port 9324] [-no-seed] [-no-schedules] [-no-event-sources] [-param K=V]...
//	localdev invoke -fn <folder name or logical id> -event <file|-> [-seed=false]
//
// up starts DynamoDB Local with the tables of template.yaml and the SQS
// emulator with its queues, builds every function, serves the template's
// routes on 127.0.0.1 through an emulated API Gateway HTTP API (payload 2.0,
// JWT authorizer, local tokens from POST /_local/token), runs the SQS and
// DynamoDB stream event source mappings and the schedules, seeds a demo
// branch and runs until SIGINT or SIGTERM, then stops every process it
// started.
//
// invoke builds one function, runs it once under aws-lambda-rie with the
// event file as payload and prints the function's response on stdout (logs go
// to stderr). It uses the DynamoDB Local and the SQS emulator of a running
// `localdev up` (127.0.0.1:8000 and :9324) if they answer, else starts its own
// on free ports. Unless -seed=false, it first creates in the function's table
// what the fixtures of testdata/events refer to (localdev.SeedFixtures), so
// every fixture works as written. It exits with status 1 when the function
// fails (error, panic or timeout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/labchain/appointments/infra/localdev"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "invoke":
		err = invoke(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "localdev: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		var fe functionFailed
		if errors.As(err, &fe) {
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  localdev up [-port 3000] [-dynamodb-port 8000] [-sqs-port 9324] [-no-seed] [-no-schedules] [-no-event-sources]
              [-max-concurrency 4] [-param Name=Value]... [-allow-missing] [-template file]
  localdev invoke -fn <folder name or logical id> -event <file|-> [-seed=false] [-dynamodb-endpoint URL] [-sqs-endpoint URL] [-param Name=Value]... [-template file]
`)
}

// params collects repeated -param Name=Value flags.
type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }

func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	port := fs.Int("port", localdev.DefaultPort, "API port on 127.0.0.1 (0: a free port)")
	dynamoPort := fs.Int("dynamodb-port", localdev.DefaultDynamoPort, "DynamoDB Local port on 127.0.0.1 (0: a free port)")
	sqsPort := fs.Int("sqs-port", localdev.DefaultSQSPort, "SQS emulator port on 127.0.0.1 (0: a free port)")
	noSeed := fs.Bool("no-seed", false, "do not create the demo branch, resources and services")
	noSchedules := fs.Bool("no-schedules", false, "do not fire Schedule/ScheduleV2 events by their timers (POST /_local/schedules/{id}/run still does)")
	noSources := fs.Bool("no-event-sources", false, "do not poll the SQS queues and DynamoDB streams of the functions' event sources")
	maxConc := fs.Int("max-concurrency", localdev.DefaultMaxConcurrency, "emulator instances per function at most")
	allowMissing := fs.Bool("allow-missing", false, "serve even if some functions/<name> folders do not exist yet or do not compile (their routes answer 500)")
	noTracing := fs.Bool("no-tracing", false, "do not run Jaeger (the functions then export no spans)")
	template := fs.String("template", "", "SAM template (default: template.yaml of the nearest folder above that has one)")
	ps := params{}
	fs.Var(ps, "param", "template parameter override Name=Value (repeatable), e.g. -param CorsAllowedOrigins=http://localhost:5173")
	_ = fs.Parse(args)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p, err := localdev.Start(ctx, localdev.Options{
		Template:       *template,
		Port:           *port,
		DynamoPort:     *dynamoPort,
		SQSPort:        *sqsPort,
		NoSchedules:    *noSchedules,
		NoEventSources: *noSources,
		MaxConcurrency: *maxConc,
		Params:         ps,
		AllowMissing:   *allowMissing,
		Tracing:        !*noTracing,
	})
	if err != nil {
		return err
	}
	defer p.Close()
	if !*noSeed {
		// A failed seed leaves the platform up: the log shows why, and the
		// functions can be fixed and tried while it runs.
		if _, err := p.SeedDemo(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "localdev: warning: seeding failed: %v\n", err)
		}
	}
	if s := p.Seed(); s != nil {
		fmt.Fprintf(os.Stderr, "\n%s\n", s.Examples(p.URL()))
	} else {
		fmt.Fprintf(os.Stderr, "\nTOKEN=$(curl -s -XPOST %s/_local/token -d '{\"role\":\"admin\"}' | cut -d'\"' -f4)\n", p.URL())
		fmt.Fprintf(os.Stderr, "curl -s %s/v1/branches -H \"Authorization: Bearer $TOKEN\"\n\n", p.URL())
	}
	if q := p.Queues(); len(q) > 0 {
		fmt.Fprintf(os.Stderr, "Queues (AWS_ENDPOINT_URL_SQS=%s; list: curl -s %s/_local/queues):\n", p.SQSEndpoint(), p.URL())
		for _, id := range sortedKeys(q) {
			fmt.Fprintf(os.Stderr, "  %-28s %s\n", id, q[id])
		}
	}
	if ss := p.Schedules(); len(ss) > 0 {
		fmt.Fprintf(os.Stderr, "Schedules (list: curl -s %s/_local/schedules):\n", p.URL())
		for _, s := range ss {
			next := s.Next
			if !s.Enabled {
				next = "disabled"
			} else if next == "" {
				next = "timer off"
			}
			fmt.Fprintf(os.Stderr, "  %-40s %-28s %s  run now: curl -s -XPOST %s/_local/schedules/%s/run\n", s.ID, s.Expression, next, p.URL(), s.ID)
		}
		fmt.Fprintln(os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "Messages: email in Mailpit %s, SMS and push: curl -s '%s/_local/messages?channel=sms'\n", p.MailpitURL(), p.URL())
	if u := p.JaegerURL(); u != "" {
		fmt.Fprintf(os.Stderr, "Traces (Jaeger query API): curl -s '%s/api/traces?service=lab-appointments&limit=5'\n", u)
	}
	fmt.Fprintf(os.Stderr, "localdev: API on %s, DynamoDB on %s, SQS on %s. Ctrl-C stops everything.\n", p.URL(), p.DynamoEndpoint(), p.SQSEndpoint())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nlocaldev: stopping…")
	if err := p.Close(); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "localdev: stopped")
	return nil
}

// functionFailed is returned by invoke when the function failed; the payload
// has been printed already.
type functionFailed struct{}

func (functionFailed) Error() string { return "function failed" }

func invoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ExitOnError)
	fn := fs.String("fn", "", "function: folder name under functions/ (e.g. health) or logical id (HealthFunction)")
	eventPath := fs.String("event", "", "event file (e.g. testdata/events/health.json), - for stdin")
	endpoint := fs.String("dynamodb-endpoint", "", "DynamoDB to use (default: http://127.0.0.1:8000 if it answers, else a fresh DynamoDB Local)")
	sqsEndpoint := fs.String("sqs-endpoint", "", "SQS to use (default: http://127.0.0.1:9324 if it answers, else a fresh SQS emulator)")
	template := fs.String("template", "", "SAM template (default: template.yaml of the nearest folder above that has one)")
	seed := fs.Bool("seed", true, "first create what the testdata/events fixtures refer to (their branch, service, visit, ...) in the function's table; existing records are kept")
	ps := params{}
	fs.Var(ps, "param", "template parameter override Name=Value (repeatable)")
	_ = fs.Parse(args)
	if *fn == "" || *eventPath == "" {
		fs.Usage()
		return errors.New("localdev invoke: -fn and -event are required")
	}
	var (
		event []byte
		err   error
	)
	if *eventPath == "-" {
		event, err = io.ReadAll(os.Stdin)
	} else {
		event, err = os.ReadFile(*eventPath)
	}
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *endpoint == "" {
		local := fmt.Sprintf("http://127.0.0.1:%d", localdev.DefaultDynamoPort)
		if localdev.DynamoAnswers(ctx, local) {
			*endpoint = local
		}
	}
	if *sqsEndpoint == "" {
		local := fmt.Sprintf("http://127.0.0.1:%d", localdev.DefaultSQSPort)
		if localdev.SQSAnswers(ctx, local) {
			*sqsEndpoint = local
		}
	}
	res, err := localdev.Invoke(ctx, localdev.Options{Template: *template, DynamoEndpoint: *endpoint, SQSEndpoint: *sqsEndpoint, Params: ps, Seed: *seed}, *fn, event)
	if err != nil {
		return err
	}
	os.Stdout.Write(res.Payload)
	if len(res.Payload) == 0 || res.Payload[len(res.Payload)-1] != '\n' {
		fmt.Println()
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(os.Stderr, "localdev: %s timed out\n", res.Function)
		return functionFailed{}
	case res.FunctionError:
		fmt.Fprintf(os.Stderr, "localdev: %s failed (function error)\n", res.Function)
		return functionFailed{}
	}
	fmt.Fprintf(os.Stderr, "localdev: %s answered in %v\n", res.Function, res.Duration.Round(100_000))
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
