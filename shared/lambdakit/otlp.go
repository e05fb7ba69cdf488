package lambdakit

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpClient sends spans to an OTLP/HTTP collector (protobuf over HTTP, the
// ADOT collector layer in Lambda, Jaeger locally) for otlptrace.New.
//
// It replaces otlptracehttp, which links gRPC, grpc-gateway and the OTLP
// collector service packages for its configuration types: about a hundred
// packages whose initialisation every cold start paid (issue #10 §6). It
// reads the standard variables a Lambda function is configured with:
// OTEL_EXPORTER_OTLP_ENDPOINT (the base URL; "/v1/traces" is appended) or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL), *_HEADERS
// ("k=v,k2=v2", values URL-encoded), *_TIMEOUT (milliseconds, default 10 s)
// and *_COMPRESSION ("gzip" or "none"). Certificate variables are not read:
// an https endpoint is checked against the system's roots.
type otlpClient struct {
	endpoint string
	headers  map[string]string
	timeout  time.Duration
	gzip     bool
	http     *http.Client
}

var _ otlptrace.Client = (*otlpClient)(nil)

// newOTLPClient reads the client's configuration through lookup.
func newOTLPClient(lookup func(string) (string, bool)) (*otlpClient, error) {
	get := func(signal, all string) string {
		if v, ok := lookup(signal); ok && v != "" {
			return v
		}
		v, _ := lookup(all)
		return v
	}
	c := &otlpClient{headers: map[string]string{}, timeout: 10 * time.Second, http: &http.Client{}}
	if v, ok := lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); ok && v != "" {
		c.endpoint = v
	} else if v, ok := lookup("OTEL_EXPORTER_OTLP_ENDPOINT"); ok && v != "" {
		c.endpoint = strings.TrimSuffix(v, "/") + "/v1/traces"
	} else {
		c.endpoint = "http://localhost:4318/v1/traces"
	}
	u, err := url.Parse(c.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lambdakit: OTLP endpoint %q is not an http(s) URL", c.endpoint)
	}
	if h := get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"); h != "" {
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("lambdakit: OTLP header %q is not key=value", kv)
			}
			if dv, err := url.PathUnescape(strings.TrimSpace(v)); err == nil {
				v = dv
			}
			c.headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if t := get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); t != "" {
		ms, err := strconv.Atoi(t)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("lambdakit: OTLP timeout %q is not a positive number of milliseconds", t)
		}
		c.timeout = time.Duration(ms) * time.Millisecond
	}
	switch comp := get("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"); comp {
	case "", "none":
	case "gzip":
		c.gzip = true
	default:
		return nil, fmt.Errorf("lambdakit: OTLP compression %q is not gzip or none", comp)
	}
	return c, nil
}

// Start implements otlptrace.Client.
func (c *otlpClient) Start(context.Context) error { return nil }

// Stop implements otlptrace.Client.
func (c *otlpClient) Stop(context.Context) error {
	c.http.CloseIdleConnections()
	return nil
}

// UploadTraces sends one export request. The body is a TracesData message,
// which has the wire format of ExportTraceServiceRequest (both are field 1,
// repeated ResourceSpans). Throttling and unavailability answers (429, 502,
// 503, 504) and timed-out attempts are retried with backoff until the
// request's deadline (the per-invocation flush bounds it, see FlushTimeout).
func (c *otlpClient) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	body, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: spans})
	if err != nil {
		return err
	}
	if c.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	backoff := 50 * time.Millisecond
	for {
		retry, err := c.post(ctx, body)
		if err == nil || !retry {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// post sends body once and reports whether a failure is worth a retry.
func (c *otlpClient) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A refused connection is not retried (no collector there, as
		// otlptracehttp decides too); a timed-out attempt is, within ctx.
		var ne net.Error
		return ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout(), fmt.Errorf("lambdakit: OTLP export: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
		return true, fmt.Errorf("lambdakit: OTLP export: collector answered %s", resp.Status)
	}
	return false, fmt.Errorf("lambdakit: OTLP export: collector answered %s: %s", resp.Status, bytes.TrimSpace(msg))
}
