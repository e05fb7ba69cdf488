// Command redrive moves the messages of a queue's dead-letter queue back to
// the queue, once the cause of their failure is fixed (`make redrive
// QUEUE=NotificationsQueue`):
//
//	redrive -queue <logical id or queue URL> [-endpoint URL] [-queues-url URL] [-max N] [-region R]
//
// A logical id (a queue of template.yaml) is resolved through the running
// local platform, whose GET /_local/queues answers {"<logicalId>":"<url>"}.
// The dead-letter queue is the queue's RedrivePolicy target. Messages keep
// their body and attributes, minus the failure attributes the consumer kit
// added; each is deleted from the dead-letter queue only after it was sent
// (see infra/redrive). It prints how many messages it moved.
//
// Queue URLs on 127.0.0.1 or localhost are served by the local SQS emulator,
// which is then the endpoint unless -endpoint says otherwise; with an
// endpoint, static dummy credentials are used. Any other URL goes to AWS with
// the usual SDK configuration (environment, profile, AWS_ENDPOINT_URL_SQS).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/redrive"
	"github.com/labchain/appointments/infra/sqslocal"
)

// defaultQueuesURL is where the local platform lists its queues.
const defaultQueuesURL = "http://127.0.0.1:3000/_local/queues"

// errUsage marks a command-line error (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}

// run is the command; it writes its result to stdout and usage to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queue := fs.String("queue", "", "logical id of the queue in template.yaml, or its URL (required)")
	endpoint := fs.String("endpoint", "", "SQS endpoint, e.g. http://127.0.0.1:9324 (default: the queue URL's host when it is local, else AWS)")
	queuesURL := fs.String("queues-url", defaultQueuesURL, "local platform URL listing the queues by logical id")
	maxMessages := fs.Int("max", 0, "move at most this many messages (0: all that the dead-letter queue holds now)")
	region := fs.String("region", "", "AWS region (default: the SDK's configuration; "+sqslocal.Region+" with a local endpoint)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: redrive -queue <logical id or URL> [-endpoint URL] [-queues-url URL] [-max N] [-region R]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *queue == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}

	queueURL := *queue
	if !strings.HasPrefix(queueURL, "http://") && !strings.HasPrefix(queueURL, "https://") {
		u, err := resolveLogicalID(ctx, *queuesURL, *queue)
		if err != nil {
			return err
		}
		queueURL = u
	}
	ep := *endpoint
	if ep == "" {
		ep = localEndpoint(queueURL)
	}
	client, err := newClient(ctx, ep, *region)
	if err != nil {
		return err
	}

	dlqURL, err := redrive.DeadLetterQueueURL(ctx, client, queueURL)
	if errors.Is(err, redrive.ErrNoDeadLetterQueue) {
		return fmt.Errorf("%w (pass the source queue, not its dead-letter queue)", err)
	}
	if err != nil {
		return err
	}
	moved, err := redrive.Redrive(ctx, client, dlqURL, queueURL, *maxMessages)
	fmt.Fprintf(stdout, "moved %d message(s) from %s to %s\n", moved, dlqURL, queueURL)
	return err
}

// resolveLogicalID asks the local platform for the URL of a queue.
func resolveLogicalID(ctx context.Context, queuesURL, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queuesURL, nil)
	if err != nil {
		return "", fmt.Errorf("queues URL %q: %w", queuesURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("list the local queues (is `make dev` running?): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("list the local queues: GET %s: %s", queuesURL, resp.Status)
	}
	var queues map[string]string
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&queues); err != nil {
		return "", fmt.Errorf("list the local queues: GET %s: %w", queuesURL, err)
	}
	if u := queues[id]; u != "" {
		return u, nil
	}
	ids := make([]string, 0, len(queues))
	for k := range queues {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	return "", fmt.Errorf("no queue %q on the local platform (known: %s)", id, strings.Join(ids, ", "))
}

// localEndpoint returns "scheme://host:port" of a queue URL on the loopback
// interface (the local emulator's), else "".
func localEndpoint(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// newClient returns an SQS client for a local endpoint (static dummy
// credentials) or, with no endpoint, for AWS.
func newClient(ctx context.Context, endpoint, region string) (*sqs.Client, error) {
	if endpoint != "" {
		if region == "" {
			region = sqslocal.Region
		}
		return sqs.New(sqs.Options{
			Region:       region,
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(endpoint),
		}), nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return sqs.NewFromConfig(cfg), nil
}
