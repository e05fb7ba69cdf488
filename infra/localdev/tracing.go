package localdev

import (
	"context"
	"fmt"
	"time"

	"github.com/labchain/appointments/infra/jaegerlocal"
	"github.com/labchain/appointments/infra/proc"
)

// Ports of Jaeger under `localdev up` (Jaeger's own defaults).
const (
	// DefaultOTLPPort is Jaeger's OTLP/HTTP receiver port of `localdev up`.
	DefaultOTLPPort = jaegerlocal.DefaultOTLPHTTPPort
	// DefaultJaegerPort is Jaeger's query API port of `localdev up`.
	DefaultJaegerPort = jaegerlocal.DefaultQueryPort
)

// ErrNoJaeger is wrapped by Start's error when Options.Tracing is set and
// the jaeger binary is not installed.
var ErrNoJaeger = jaegerlocal.ErrNoBinary

// paramOtelEndpoint is the template parameter that becomes every function's
// OTEL_EXPORTER_OTLP_ENDPOINT (template.yaml Globals): the same switch as in
// AWS, where it names the ADOT collector.
const paramOtelEndpoint = "OtelExporterEndpoint"

func (r *resolved) checkJaeger() error {
	if !r.Tracing {
		return nil
	}
	if _, err := proc.Binary(r.JaegerBin, nil, ErrNoJaeger); err != nil {
		return fmt.Errorf("localdev: %w", err)
	}
	return nil
}

// jaegerPorts returns the OTLP/HTTP and query ports: the defaults under
// `localdev up` (fixed API port), free ports in tests. The gRPC ports are
// always free ports: nothing here uses them.
func (r *resolved) jaegerPorts() (otlp, query int) {
	if r.Port != 0 {
		return DefaultOTLPPort, DefaultJaegerPort
	}
	return 0, 0
}

// startJaeger runs Jaeger when Options.Tracing is set and returns the
// parameters that point the functions' exporters at it.
func (p *Platform) startJaeger(ctx context.Context) (map[string]string, error) {
	o := p.opts
	if !o.Tracing {
		return nil, nil
	}
	begin := time.Now()
	otlp, query := o.jaegerPorts()
	s, err := jaegerlocal.Start(ctx, jaegerlocal.Options{
		Bin: o.JaegerBin, Log: newPrefixWriter(o.FunctionLog, "jaeger"), OTLPHTTPPort: otlp, QueryPort: query,
	})
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	p.jaeger = s
	o.logf("Jaeger ready: OTLP %s, query API %s/api/traces?service=lab-appointments (%.1fs)", s.OTLPEndpoint(), s.QueryURL(), time.Since(begin).Seconds())
	return map[string]string{paramOtelEndpoint: s.OTLPEndpoint()}, nil
}

// JaegerURL returns the URL of Jaeger's query API, "" without
// Options.Tracing.
func (p *Platform) JaegerURL() string {
	if p.jaeger == nil {
		return ""
	}
	return p.jaeger.QueryURL()
}

// Traces returns a client of Jaeger's query API (nil without
// Options.Tracing): every span the functions export is there.
func (p *Platform) Traces() *jaegerlocal.Client {
	if p.jaeger == nil {
		return nil
	}
	return p.jaeger.Client()
}
