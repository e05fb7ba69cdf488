package coldstart

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/benchab"
)

const root = "../.."

// The bootstraps of every function and the hello world, built once per test
// binary with the Makefile's flags (see bootstraps).
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	functions []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// bootstraps builds hello and every function under functions/ into one
// directory and returns it.
func bootstraps(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		var flags []string
		if flags, buildErr = MakefileGoFlags(root); buildErr != nil {
			return
		}
		entries, err := os.ReadDir(filepath.Join(root, "functions"))
		if err != nil {
			buildErr = err
			return
		}
		pkgs := []string{"./infra/coldstart/hello"}
		for _, e := range entries {
			if e.IsDir() {
				functions = append(functions, e.Name())
				pkgs = append(pkgs, "./functions/"+e.Name())
			}
		}
		if buildDir, buildErr = os.MkdirTemp("", "coldstart-"); buildErr != nil {
			return
		}
		buildErr = Build(context.Background(), root, buildDir, flags, pkgs...)
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return buildDir
}

// lambdaEnv is the environment of a deployed function (template.yaml
// Globals with the collector layer on, the variables Lambda sets), and
// nothing of the caller's: a variable such as AWS_CA_BUNDLE, set on
// developer machines, makes the SDK parse a CA bundle at start (~5-20 ms).
// collector is the OTLP/HTTP endpoint, standing in for the ADOT layer.
func lambdaEnv(name, collector string) []string {
	return []string{
		"AWS_REGION=ap-southeast-1", "AWS_DEFAULT_REGION=ap-southeast-1",
		"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=local",
		"AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"TZ=:UTC", "LANG=en_US.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin",
		"ENVIRONMENT=prod", "LOG_LEVEL=INFO", "OTEL_SERVICE_NAME=lab-appointments",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector,
		"TABLE_NAME=Booking",
	}
}

func rie(b *testing.B) string {
	b.Helper()
	p, err := filepath.Abs(filepath.Join(root, ".local", "bin", "aws-lambda-rie"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("aws-lambda-rie not installed (make tools): %v", err)
	}
	return p
}

// BenchmarkColdStart measures the first invocation (the emulator starts the
// bootstrap; process start, package initialisation, main, the first answer)
// of the health check and of book-appointment against an aws-lambda-go hello
// world built with the same flags, A B A B, after a warm-up; b.N pairs.
//
// book-appointment is sent its fixture without the Idempotency-Key header:
// it answers 400 after the whole middleware chain, claims and routing, but
// before any DynamoDB round trip, so the figure is the function's own start
// cost (the booking's DynamoDB cost is BenchmarkBookingHandlerVsBareTransaction's).
func BenchmarkColdStart(b *testing.B) {
	dir := bootstraps(b)
	emulator := rie(b)
	// The OTLP/HTTP collector the functions flush their spans to.
	var exports sync.Map
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exports.Store(r.URL.Path, true)
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	health, err := os.ReadFile(filepath.Join(root, "testdata", "events", "health.json"))
	if err != nil {
		b.Fatal(err)
	}
	book := withoutHeader(b, filepath.Join(root, "testdata", "events", "book-appointment.json"), "idempotency-key")
	for _, c := range []struct {
		fn     string
		event  []byte
		answer string // in the function's response
	}{
		{"health", health, `"statusCode":200`},
		{"book-appointment", book, `"statusCode":400`},
	} {
		b.Run(c.fn, func(b *testing.B) {
			invoke := func(bootstrap, fn string, event []byte, want string) time.Duration {
				d, out, err := Invoke(context.Background(), emulator, filepath.Join(dir, bootstrap), lambdaEnv(fn, collector.URL), event)
				if err != nil {
					b.Fatal(err)
				}
				if !strings.Contains(string(out), want) {
					b.Fatalf("%s answered %s, want %s", fn, out, want)
				}
				return d
			}
			benchab.Durations(b, benchab.Spec{
				Figure: c.fn + " first invocation", Baseline: "hello world first invocation", Unit: "ms", WarmUp: 3,
			}, func(int) time.Duration {
				return invoke(c.fn, c.fn, c.event, c.answer)
			}, func(int) time.Duration {
				return invoke("hello", "hello", c.event, `"statusCode":200`)
			})
			if _, ok := exports.Load("/v1/traces"); !ok {
				b.Fatal("no function exported its spans to the collector: the figure would leave out the flush")
			}
		})
	}
}

// BenchmarkBootstrapSize reports the size of every function's bootstrap
// against the hello world's.
func BenchmarkBootstrapSize(b *testing.B) {
	dir := bootstraps(b)
	size := func(name string) float64 {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		return float64(fi.Size()) / 1e6
	}
	hello := size("hello")
	for _, fn := range functions {
		b.Run(fn, func(b *testing.B) {
			s := size(fn)
			benchab.Report(b, benchab.Spec{Figure: fn + " bootstrap", Baseline: "hello world bootstrap", Unit: "MB"}, s, hello, s/hello)
		})
	}
}

// withoutHeader returns the event file with one header removed.
func withoutHeader(b *testing.B, path, header string) []byte {
	b.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	headers, _ := ev["headers"].(map[string]any)
	if _, ok := headers[header]; !ok {
		b.Fatalf("%s has no %s header", path, header)
	}
	delete(headers, header)
	out, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
