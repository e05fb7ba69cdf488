package localdev

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/infra/sqslocal"
)

// InvokeResult is the outcome of Invoke.
type InvokeResult struct {
	// Function is the logical id of the function that ran.
	Function string
	// Payload is the function's answer as the Lambda Invoke API returned it:
	// the response object, or the error object of a failed invocation, or the
	// emulator's "Task timed out after N.00 seconds" text.
	Payload []byte
	// FunctionError is true when the handler returned an error, panicked or
	// the runtime crashed.
	FunctionError bool
	// TimedOut is true when the function ran past its Timeout.
	TimedOut bool
	// Duration is the wall time of the invocation (cold start included).
	Duration time.Duration
}

// Failed reports whether the invocation failed (function error or timeout).
func (r *InvokeResult) Failed() bool { return r.FunctionError || r.TimedOut }

// Invoke runs one function once with event as its payload, the way
// `sam local invoke -e event.json` does: it builds the function (a logical id
// such as "HealthFunction" or a folder name such as "health"), uses
// Options.DynamoEndpoint or else starts DynamoDB Local on Options.DynamoPort
// (0: a free port) with the template's tables, and likewise
// Options.SQSEndpoint or its own SQS emulator with the template's queues
// (when it has any), with Options.Seed creates what the testdata/events
// fixtures refer to (SeedFixtures), runs the bootstrap under one
// aws-lambda-rie with the function's template environment (its emails and
// SMS go to the Mailpit and message sink of a running `localdev up`, on
// DefaultSMTPPort and DefaultPort), posts the event to
// the Invoke API and stops everything it started. A failing function is not an
// error: see InvokeResult.Failed.
func Invoke(ctx context.Context, opts Options, name string, event []byte) (*InvokeResult, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := o.checkRIE(); err != nil {
		return nil, err
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d%s", DefaultPort, localPrefix)
	a, err := loadApp(o.Template, platformParams(o.Params, issuer, defaultMessagingParams()))
	if err != nil {
		return nil, err
	}
	f, err := a.function(name)
	if err != nil {
		return nil, err
	}
	if !hasSource(o.Root, f) {
		return nil, fmt.Errorf("localdev: %s: %s has no Go files", f.LogicalID, f.Dir())
	}
	folder := samtemplate.FunctionName(f.LogicalID)

	begin := time.Now()
	o.logf("building %s…", folder)
	bins, err := Build(ctx, o.Root, o.BuildDir, []string{folder}, o.Log)
	if err != nil {
		return nil, err
	}
	o.logf("built %s in %.1fs", relPath(bins[folder]), time.Since(begin).Seconds())

	endpoint := o.DynamoEndpoint
	if endpoint == "" {
		begin := time.Now()
		s, err := dynamolocal.Start(ctx, dynamolocal.Options{Dir: o.DynamoDir, Port: o.DynamoPort, InMemory: true})
		if err != nil {
			return nil, err
		}
		defer s.Stop()
		endpoint = s.Endpoint()
		o.logf("DynamoDB Local ready on :%d (in memory, %.1fs)", s.Port(), time.Since(begin).Seconds())
	} else {
		o.logf("using DynamoDB at %s", endpoint)
	}
	if err := createTables(ctx, a, endpoint, o); err != nil {
		return nil, err
	}
	if a.streamARNs, err = streamARNs(ctx, a, endpoint); err != nil {
		return nil, err
	}
	if specs, err := a.queueSpecs(); err != nil {
		return nil, err
	} else if len(specs) > 0 {
		a.sqsEndpoint = strings.TrimSuffix(o.SQSEndpoint, "/")
		if a.sqsEndpoint == "" {
			s, err := sqslocal.Start(ctx, sqslocal.Options{Dir: o.SQSDir, Port: o.SQSPort})
			if err != nil {
				return nil, fmt.Errorf("localdev: %w", err)
			}
			defer s.Stop()
			a.sqsEndpoint = s.Endpoint()
		} else {
			o.logf("using SQS at %s", a.sqsEndpoint)
		}
		if _, err := createQueues(ctx, sqslocal.NewClient(a.sqsEndpoint), specs); err != nil {
			return nil, err
		}
	}

	s, err := a.settings(f, endpoint, filepath.Dir(bins[folder]), o.Env)
	if err != nil {
		return nil, err
	}
	if table := s.env["TABLE_NAME"]; opts.Seed && table != "" {
		if err := SeedFixtures(ctx, fixtureStore(endpoint, table), event, time.Now()); err != nil {
			return nil, err
		}
		o.logf("fixtures ready in %s (branch %s, visit %s)", table, FixtureBranchID, FixtureAppointmentID)
	}
	// The emulator prints END and REPORT after it has answered: wait for
	// them (briefly) before stopping it, so the log is complete.
	report := &reportWatcher{w: o.FunctionLog, seen: make(chan struct{})}
	fn := newFunction(f.LogicalID, folder, bins[folder], envList(s.env), s.timeout, 1, o.RIE, report)
	defer func() {
		select {
		case <-report.seen:
		case <-time.After(500 * time.Millisecond):
		}
		fn.close()
	}()

	begin = time.Now()
	inv, err := fn.invoke(ctx, event)
	if err != nil {
		return nil, err
	}
	res := &InvokeResult{Function: f.LogicalID, Payload: inv.body, Duration: time.Since(begin)}
	switch classify(inv) {
	case functionError:
		res.FunctionError = true
	case timedOut:
		res.TimedOut = true
	}
	return res, nil
}

// reportWatcher passes output through and closes seen at the first REPORT line.
type reportWatcher struct {
	w    io.Writer
	once sync.Once
	seen chan struct{}
}

func (r *reportWatcher) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if bytes.Contains(p, []byte("REPORT RequestId:")) {
		r.once.Do(func() { close(r.seen) })
	}
	return n, err
}

// DynamoAnswers reports whether a DynamoDB endpoint answers ListTables within
// a second (e.g. the DynamoDB Local of a running `localdev up`).
func DynamoAnswers(ctx context.Context, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := dynamolocal.NewClient(endpoint).ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1
	})
	return err == nil
}

// SQSAnswers reports whether an SQS endpoint answers ListQueues within a
// second (e.g. the emulator of a running `localdev up`).
func SQSAnswers(ctx context.Context, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := sqslocal.NewClient(endpoint).ListQueues(ctx, &sqs.ListQueuesInput{}, func(o *sqs.Options) {
		o.RetryMaxAttempts = 1
	})
	return err == nil
}
