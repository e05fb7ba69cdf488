package localdev

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Defaults of the local platform.
const (
	// DefaultPort is the API port of `localdev up` (what `sam local start-api` uses).
	DefaultPort = 3000
	// DefaultDynamoPort is the DynamoDB Local port of `localdev up`.
	DefaultDynamoPort = 8000
	// DefaultMaxConcurrency is how many emulator instances a function may run
	// at once when Options.MaxConcurrency is zero.
	DefaultMaxConcurrency = 4
	// backgroundNice is the niceness of the emulators of functions without an
	// API route (queue, stream and schedule consumers). On AWS they run on
	// hardware of their own; here they share two cores with the API, and at
	// the same priority a burst of bookings spent two thirds of its time on
	// the event pipeline it set off (make bench, DevBookingsVsBareTransactions:
	// 38 bookings/s with the pipeline, 113 without). Niced, they still get
	// about a fifth of a busy CPU and all of an idle one, so events keep
	// flowing and catch up as soon as the API calms down.
	backgroundNice = 10
	// Region is the AWS region every function sees.
	Region = "ap-southeast-1"
	// Environment is the value of the template's Environment parameter.
	Environment = "local"
)

// ErrNoRIE is wrapped by Start's and Invoke's error when aws-lambda-rie is not
// installed.
var ErrNoRIE = errors.New("aws-lambda-rie not found: run `make tools`")

// Options configure Start and Invoke. The zero value serves the repository's
// template.yaml on free ports, without seeding.
type Options struct {
	// Root is the folder holding template.yaml and functions/; default: the
	// nearest ancestor of the working directory holding template.yaml.
	Root string
	// Template is the SAM template; default <Root>/template.yaml.
	Template string
	// Port is the API's TCP port on 127.0.0.1; 0 picks a free port (tests).
	// `localdev up` uses DefaultPort.
	Port int
	// DynamoPort is DynamoDB Local's TCP port; 0 picks a free port.
	DynamoPort int
	// DynamoEndpoint, when set, is a running DynamoDB (Local) to use instead of
	// starting one; missing tables are created in it.
	DynamoEndpoint string
	// SQSPort is the SQS emulator's TCP port; 0 picks a free port. `localdev
	// up` uses DefaultSQSPort.
	SQSPort int
	// SQSEndpoint, when set, is a running SQS emulator to use instead of
	// starting one; missing queues are created in it.
	SQSEndpoint string
	// SQSDir is the npm prefix holding local-aws-sqs; default <repo>/.local/sqs.
	SQSDir string
	// NoEventSources turns the SQS and DynamoDB stream event source mappings
	// off: nothing polls the queues or the streams.
	NoEventSources bool
	// NoSchedules turns the schedule timers off; Platform.RunSchedule and
	// POST /_local/schedules/{id}/run still fire them on demand.
	NoSchedules bool
	// MaxConcurrency caps the emulator instances per function; default
	// DefaultMaxConcurrency.
	MaxConcurrency int
	// IdleTimeout stops an emulator instance idle this long (Lambda
	// reclaims idle environments too); default DefaultIdleTimeout, negative:
	// never.
	IdleTimeout time.Duration
	// Seed creates the demo branch, hours, resources and services through the
	// API once it is up (see SeedResult). For Invoke, it creates what the
	// events of testdata/events refer to (SeedFixtures) in the function's
	// table before the invocation.
	Seed bool
	// Params override template parameters. Environment is "local" and
	// JwtIssuer is the local issuer unless set here.
	Params map[string]string
	// Env is added to every function's environment, last (it wins).
	Env map[string]string
	// Functions restricts the platform to these functions (logical ids or
	// folder names); empty means all. Routes of other functions answer 404.
	Functions []string
	// AllowMissing serves the template even when some functions/<name> folders
	// do not exist yet or do not compile: their routes answer 500 and the log
	// says why.
	AllowMissing bool
	// BuildDir receives the bootstraps, <BuildDir>/<name>/bootstrap; default
	// <Root>/build/local.
	BuildDir string
	// RIE is the aws-lambda-rie binary; default <repo>/.local/bin/aws-lambda-rie,
	// <repo> being the nearest ancestor of Root holding go.mod.
	RIE string
	// DynamoDir holds DynamoDBLocal.jar; default <repo>/.local/dynamodb.
	DynamoDir string
	// MailpitBin is the mailpit binary; default <repo>/.local/bin/mailpit.
	MailpitBin string
	// MailpitSMTPPort and MailpitPort are Mailpit's SMTP and web UI/API
	// ports; 0 means DefaultSMTPPort and DefaultMailpitPort when Port is set
	// (`localdev up`) and free ports when Port is 0 (tests).
	MailpitSMTPPort, MailpitPort int
	// Log receives progress lines and one line per API request; default
	// os.Stderr.
	Log io.Writer
	// Tracing runs Jaeger (the local OTLP collector and trace store) and sets
	// the template's OtelExporterEndpoint parameter to it, so every function
	// exports its spans there (see Platform.Traces). `localdev up` sets it.
	Tracing bool
	// JaegerBin is the jaeger binary; default <repo>/.local/bin/jaeger.
	JaegerBin string
	// FunctionLog receives the functions' and emulators' output, each line
	// prefixed with the function's name; default Log.
	FunctionLog io.Writer
}

// resolved is Options with every default applied.
type resolved struct {
	Options
	repo string // module root (go.mod)
}

func (o Options) resolve() (*resolved, error) {
	r := &resolved{Options: o}
	if r.Root == "" {
		if r.Template != "" {
			r.Root = filepath.Dir(r.Template)
		} else {
			root, err := findUp("template.yaml")
			if err != nil {
				return nil, err
			}
			r.Root = root
		}
	}
	abs, err := filepath.Abs(r.Root)
	if err != nil {
		return nil, err
	}
	r.Root = abs
	if r.Template == "" {
		r.Template = filepath.Join(r.Root, "template.yaml")
	}
	repo, err := findUpFrom(r.Root, "go.mod")
	if err != nil {
		return nil, err
	}
	r.repo = repo
	if r.BuildDir == "" {
		r.BuildDir = filepath.Join(r.Root, "build", "local")
	}
	if r.RIE == "" {
		r.RIE = filepath.Join(repo, ".local", "bin", "aws-lambda-rie")
	}
	if r.JaegerBin == "" {
		r.JaegerBin = filepath.Join(repo, ".local", "bin", "jaeger")
	}
	if r.DynamoDir == "" {
		r.DynamoDir = filepath.Join(repo, ".local", "dynamodb")
	}
	if r.SQSDir == "" {
		r.SQSDir = filepath.Join(repo, ".local", "sqs")
	}
	if r.MailpitBin == "" {
		r.MailpitBin = filepath.Join(repo, ".local", "bin", "mailpit")
	}
	if r.IdleTimeout == 0 {
		r.IdleTimeout = DefaultIdleTimeout
	}
	if r.MaxConcurrency <= 0 {
		r.MaxConcurrency = DefaultMaxConcurrency
	}
	if r.Log == nil {
		r.Log = os.Stderr
	}
	r.Log = &syncWriter{w: r.Log}
	if r.FunctionLog == nil {
		r.FunctionLog = r.Log
	} else {
		r.FunctionLog = &syncWriter{w: r.FunctionLog}
	}
	return r, nil
}

func (r *resolved) checkRIE() error {
	st, err := os.Stat(r.RIE)
	if err != nil || st.IsDir() {
		return fmt.Errorf("localdev: %s: %w", r.RIE, ErrNoRIE)
	}
	return nil
}

func (r *resolved) logf(format string, args ...any) {
	fmt.Fprintf(r.Log, "localdev: "+format+"\n", args...)
}

func findUp(name string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findUpFrom(wd, name)
}

// findUpFrom returns the nearest ancestor of dir (itself included) holding name.
func findUpFrom(dir, name string) (string, error) {
	start := dir
	for {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("localdev: no %s in %s or above", name, start)
		}
		dir = parent
	}
}
