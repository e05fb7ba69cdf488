// Package testenv gives integration tests a real DynamoDB Local: one process
// per test binary, started only if a test asks for it, and one fresh table per
// test created from template.yaml's BookingTable.
//
// Every package whose tests use it declares
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// Set DYNAMODB_ENDPOINT (e.g. http://127.0.0.1:8000) to use a running
// DynamoDB Local instead of starting one. In -short mode the integration
// tests are skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/samtemplate"
)

// EndpointVariable names the environment variable that points the tests at an
// already running DynamoDB Local.
const EndpointVariable = "DYNAMODB_ENDPOINT"

// BookingTable is the logical id of the table NewTable copies.
const BookingTable = "BookingTable"

var (
	mu       sync.Mutex
	inMain   bool
	server   *dynamolocal.Server
	client   *dynamodb.Client
	startErr error

	tplOnce sync.Once
	tpl     *samtemplate.Template
	tplErr  error
)

// Main runs the tests of a package and then stops the DynamoDB Local and the
// SQS emulator it may have started. Call it from TestMain:
// os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := m.Run()
	stopSQS()
	mu.Lock()
	defer mu.Unlock()
	if server != nil {
		server.Stop()
		server = nil
	}
	return code
}

// DynamoDB returns the test binary's DynamoDB Local client, starting the
// server on first use (or using DYNAMODB_ENDPOINT). It skips the test in
// -short mode and fails it if the server cannot start.
func DynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs DynamoDB Local")
	}
	mu.Lock()
	defer mu.Unlock()
	if !inMain {
		tb.Fatal("testenv: call testenv.Main from TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }")
	}
	if client != nil {
		return client
	}
	if startErr != nil {
		tb.Fatal(startErr)
	}
	if ep := os.Getenv(EndpointVariable); ep != "" {
		client = dynamolocal.NewClient(ep)
		return client
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*dynamolocal.StartTimeout)
	defer cancel()
	s, err := dynamolocal.Start(ctx, dynamolocal.Options{InMemory: true})
	if err != nil {
		if errors.Is(err, dynamolocal.ErrNoJar) {
			startErr = fmt.Errorf("testenv: %v: run `make tools` (or `make test`)", err)
		} else {
			startErr = fmt.Errorf("testenv: %w", err)
		}
		tb.Fatal(startErr)
	}
	server = s
	client = s.Client(ctx)
	return client
}

// TableOption changes how NewTable creates a table.
type TableOption func(*tableConfig)

type tableConfig struct{ stream bool }

// WithStream keeps the template's stream specification. Only tests of stream
// consumers need it: in DynamoDB Local every stream-enabled table created in
// the process (even once deleted) makes all later writes slower. Measured on
// 2 cores: 40 tables × (create, 20 bookings, delete) took 45 s with streams,
// growing from 0.3 s to 2.4 s per table, against a flat 0.2 s (12 s) without.
func WithStream() TableOption { return func(c *tableConfig) { c.stream = true } }

// NewTable creates a fresh table with a unique name from template.yaml's
// BookingTable (found by walking up from the working directory to go.mod),
// waits until it is ACTIVE and deletes it when the test ends. The table has
// the template's keys, indexes and billing mode but no stream unless
// WithStream is given.
func NewTable(tb testing.TB, c *dynamodb.Client, opts ...TableOption) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs DynamoDB Local")
	}
	var cfg tableConfig
	for _, o := range opts {
		o(&cfg)
	}
	t, err := template()
	if err != nil {
		tb.Fatal(err)
	}
	name := tableName(tb.Name())
	in, err := t.TableInput(BookingTable, name)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if !cfg.stream {
		in.StreamSpecification = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := dynamolocal.CreateTables(ctx, c, []*dynamodb.CreateTableInput{in}); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Errorf("testenv: delete table %s: %v", name, err)
		}
	})
	return name
}

// Table is DynamoDB followed by NewTable: a client and a fresh table.
func Table(tb testing.TB, opts ...TableOption) (*dynamodb.Client, string) {
	tb.Helper()
	c := DynamoDB(tb)
	return c, NewTable(tb, c, opts...)
}

// Template returns the parsed template.yaml of the repository.
func Template(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	t, err := template()
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func template() (*samtemplate.Template, error) {
	tplOnce.Do(func() {
		root, err := dynamolocal.RepoRoot()
		if err != nil {
			tplErr = fmt.Errorf("testenv: %w", err)
			return
		}
		tpl, err = samtemplate.Load(filepath.Join(root, "template.yaml"))
		if err != nil {
			tplErr = fmt.Errorf("testenv: %w", err)
		}
	})
	return tpl, tplErr
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName makes a valid, unique table name that still says which test made
// it: "<test name, sanitised, at most 64 chars>-<random hex>".
func tableName(test string) string {
	base := unsafeChars.ReplaceAllString(test, "_")
	if len(base) > 64 {
		base = base[len(base)-64:]
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base + "-" + hex.EncodeToString(b[:])
}
