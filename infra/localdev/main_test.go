package localdev

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The integration tests share one platform over testdata/template.yaml (the
// echo function, DynamoDB Local, seeding on); TestMain closes it.
var (
	sharedOnce sync.Once
	sharedP    *Platform
	sharedErr  error
	sharedLog  = &lockedBuffer{}

	tempMu   sync.Mutex
	tempDirs []string
)

func TestMain(m *testing.M) {
	if endpoint := os.Getenv(childEnv); endpoint != "" {
		os.Exit(runChild(endpoint))
	}
	flag.Parse()
	code := m.Run()
	if sharedP != nil {
		sharedP.Close()
	}
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	if code != 0 && sharedLog.Len() > 0 {
		fmt.Fprintf(os.Stderr, "--- shared platform log (last 8 KiB) ---\n%s\n", sharedLog.Tail(8<<10))
	}
	os.Exit(code)
}

// requireTools skips in -short mode and fails when the emulators or Mailpit
// are missing.
func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (real DynamoDB Local and aws-lambda-rie processes); skipped with -short")
	}
	o, err := Options{Root: "testdata"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if err := o.checkRIE(); err != nil {
		t.Fatalf("%v (run `make tools`)", err)
	}
	if _, err := os.Stat(filepath.Join(o.DynamoDir, "DynamoDBLocal.jar")); err != nil {
		t.Fatalf("DynamoDB Local missing in %s: run `make tools`", o.DynamoDir)
	}
	if _, err := os.Stat(filepath.Join(o.SQSDir, "node_modules", "local-aws-sqs")); err != nil {
		t.Fatalf("the SQS emulator is missing in %s: run `make tools`", o.SQSDir)
	}
	if err := o.checkMailpit(); err != nil {
		t.Fatal(err)
	}
}

// shared returns the shared platform, starting it on first use.
func shared(t *testing.T) *Platform {
	t.Helper()
	requireTools(t)
	sharedOnce.Do(func() {
		// A host OTEL_* variable reaches every function.
		os.Setenv("OTEL_TRACES_SAMPLER", "always_on")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		sharedP, sharedErr = Start(ctx, testOptions(sharedLog, Options{Seed: true}))
	})
	if sharedErr != nil {
		t.Fatalf("start platform: %v\n%s", sharedErr, sharedLog.String())
	}
	return sharedP
}

// testOptions fills in the test template, a temporary build folder and a log.
func testOptions(log io.Writer, o Options) Options {
	o.Root = "testdata"
	if o.BuildDir == "" {
		dir, err := os.MkdirTemp("", "localdev-build-")
		if err != nil {
			panic(err)
		}
		o.BuildDir = dir
		tempMu.Lock()
		tempDirs = append(tempDirs, dir)
		tempMu.Unlock()
	}
	o.Log = log
	return o
}

// lockedBuffer collects the platform's log for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) Tail(n int) string {
	s := l.String()
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// call sends a request to the platform and returns the response and its body.
func call(t *testing.T, method, url, token string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// echoReply is the echo function's answer.
type echoReply struct {
	ID    string            `json:"id"`
	Event httpEvent         `json:"event"`
	Env   map[string]string `json:"env"`
	PID   int               `json:"pid"`
}

func decodeEcho(t *testing.T, data []byte) echoReply {
	t.Helper()
	var r echoReply
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("echo reply: %v: %s", err, data)
	}
	return r
}

func mustToken(t *testing.T, p *Platform, req TokenRequest) string {
	t.Helper()
	tok, err := p.Token(req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func osGetpid() int { return os.Getpid() }

// childEnv makes the test binary run runChild instead of the tests: a process
// that starts a platform and is then killed by TestKilledParentLeavesNoProcesses.
const childEnv = "LOCALDEV_TEST_CHILD_DYNAMODB"

// childBuildEnv is the child's build folder (the parent removes it).
const childBuildEnv = "LOCALDEV_TEST_CHILD_BUILD"

// runChild starts a platform on the given DynamoDB, has two emulator
// instances started, prints the pids of its processes as one JSON line and
// waits to be killed.
func runChild(endpoint string) int {
	ctx := context.Background()
	p, err := Start(ctx, testOptions(io.Discard, Options{DynamoEndpoint: endpoint, BuildDir: os.Getenv(childBuildEnv)}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	token, _ := p.Token(TokenRequest{Role: RoleAdmin})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, p.URL()+"/v1/echo/x?mode=sleep&ms=300", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	out, _ := json.Marshal(p.pids())
	fmt.Println(string(out))
	time.Sleep(time.Minute)
	return 0
}
