package lambdakit

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestOTLPClientExports: spans reach the collector as an OTLP/HTTP protobuf
// ExportTraceServiceRequest (what the ADOT layer and Jaeger decode), at
// <endpoint>/v1/traces, with the configured headers, gzip-compressed when
// asked; a 503 is retried, a 400 is not.
func TestOTLPClientExports(t *testing.T) {
	for _, gz := range []bool{false, true} {
		var calls atomic.Int32
		var got *coltracepb.ExportTraceServiceRequest
		var hdr http.Header
		var path string
		col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable) // once: retried
				return
			}
			path, hdr = r.URL.Path, r.Header.Clone()
			var body io.Reader = r.Body
			if r.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(r.Body)
				if err != nil {
					t.Error(err)
					return
				}
				body = zr
			}
			raw, _ := io.ReadAll(body)
			got = &coltracepb.ExportTraceServiceRequest{}
			if err := proto.Unmarshal(raw, got); err != nil {
				t.Error(err)
			}
		}))
		env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.URL + "/", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=a%20b, x-team=lab"}
		if gz {
			env["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"
		}
		c, err := newOTLPClient(lookupMap(env))
		if err != nil {
			t.Fatal(err)
		}
		exp, err := otlptrace.New(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		_, span := tp.Tracer("t").Start(context.Background(), "booking")
		span.End()
		_ = tp.Shutdown(context.Background())
		col.Close()
		if calls.Load() != 2 {
			t.Errorf("gzip=%v: %d requests, want the refused one and its retry", gz, calls.Load())
		}
		if path != "/v1/traces" || hdr.Get("Content-Type") != "application/x-protobuf" || hdr.Get("X-Api-Key") != "a b" || hdr.Get("X-Team") != "lab" {
			t.Errorf("gzip=%v: path %q, headers %v", gz, path, hdr)
		}
		if got == nil || len(got.ResourceSpans) != 1 || got.ResourceSpans[0].ScopeSpans[0].Spans[0].Name != "booking" {
			t.Errorf("gzip=%v: collector got %v", gz, got)
		}
	}

	var calls atomic.Int32
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad payload", http.StatusBadRequest)
	}))
	defer col.Close()
	c, err := newOTLPClient(lookupMap(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": col.URL + "/custom"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UploadTraces(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "400") || calls.Load() != 1 {
		t.Errorf("400: err %v after %d requests, want one refused request", err, calls.Load())
	}
}

func TestOTLPClientConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // endpoint, or "error"
	}{
		{map[string]string{}, "http://localhost:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, "http://localhost:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:2/x"}, "https://b:2/x"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "error"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "soon"}, "error"},
		{map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "error"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "error"},
	} {
		c, err := newOTLPClient(lookupMap(tc.env))
		switch {
		case tc.want == "error" && err == nil:
			t.Errorf("%v: accepted", tc.env)
		case tc.want != "error" && (err != nil || c.endpoint != tc.want):
			t.Errorf("%v: endpoint %v, %v; want %s", tc.env, c, err, tc.want)
		}
	}
	c, err := newOTLPClient(lookupMap(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1500", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "250"}))
	if err != nil || c.timeout.Milliseconds() != 250 {
		t.Errorf("timeout %v, %v; want the traces-specific 250 ms", c, err)
	}
}
