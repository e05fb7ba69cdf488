package templatecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/labchain/appointments/infra/samtemplate"
)

// TestTracingInAWS: with TracingEnabled (the default) every function gets the
// arm64 ADOT collector layer, X-Ray tracing (its write permissions), the
// collector's configuration and an OTLP endpoint the collector listens on;
// the configuration exports traces to X-Ray. With TracingEnabled=false none
// of it, and an explicit OtelExporterEndpoint wins over the layer.
func TestTracingInAWS(t *testing.T) {
	tpl := load(t)
	g := samtemplate.Map(tpl.Globals["Function"])
	resolve := func(v any, params map[string]string) (string, bool) {
		params["Environment"] = "staging"
		s, present, err := tpl.Resolve(v, samtemplate.Resolver{Params: params, Region: "ap-southeast-1"})
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		return s, present
	}
	env := samtemplate.Map(samtemplate.Map(g["Environment"])["Variables"])

	on := map[string]string{}
	if got, _ := resolve(g["Tracing"], on); got != "Active" {
		t.Errorf("Tracing = %q, want Active (X-Ray write access for the collector)", got)
	}
	layers, ok := samtemplate.Map(g["Layers"])["Fn::If"].([]any)
	if !ok || len(layers) != 3 || len(list(layers[1])) != 1 {
		t.Fatalf("Globals.Function.Layers = %v, want !If [<condition>, [<collector layer>], !Ref AWS::NoValue]", g["Layers"])
	}
	arn, _ := resolve(list(layers[1])[0], map[string]string{})
	if !strings.Contains(arn, ":lambda:ap-southeast-1:901920570463:layer:aws-otel-collector-arm64-ver-") {
		t.Errorf("collector layer %q: want AWS's arm64 ADOT collector layer of the deploy region", arn)
	}
	if got, _ := resolve(list(layers[1])[0], map[string]string{"AdotCollectorLayerArn": "arn:aws:lambda:ap-southeast-1:901920570463:layer:x:9"}); got != "arn:aws:lambda:ap-southeast-1:901920570463:layer:x:9" {
		t.Errorf("AdotCollectorLayerArn does not override the layer: %q", got)
	}
	uri, present := resolve(env["OPENTELEMETRY_COLLECTOR_CONFIG_URI"], map[string]string{})
	if !present || !strings.HasPrefix(uri, "/var/task/") {
		t.Fatalf("OPENTELEMETRY_COLLECTOR_CONFIG_URI = %q, want /var/task/<file> (shipped beside the bootstrap)", uri)
	}
	endpoint, _ := resolve(env["OTEL_EXPORTER_OTLP_ENDPOINT"], map[string]string{})
	if got, _ := resolve(env["OTEL_EXPORTER_OTLP_ENDPOINT"], map[string]string{"OtelExporterEndpoint": "http://other:4318"}); got != "http://other:4318" {
		t.Errorf("OtelExporterEndpoint does not win over the layer: %q", got)
	}

	// The shipped configuration: OTLP/HTTP on the endpoint the functions use, to X-Ray.
	b, err := os.ReadFile(filepath.Join(root, "infra", "adot", filepath.Base(uri)))
	if err != nil {
		t.Fatalf("the collector configuration %s: %v", uri, err)
	}
	mk, _ := os.ReadFile(filepath.Join(root, "Makefile"))
	if !strings.Contains(string(mk), "infra/adot/"+filepath.Base(uri)+" $(ARTIFACTS_DIR)/") {
		t.Errorf("the Makefile's build-%% rule does not copy infra/adot/%s into ARTIFACTS_DIR", filepath.Base(uri))
	}
	var cfg struct {
		Receivers struct {
			OTLP struct {
				Protocols struct {
					HTTP struct{ Endpoint string } `yaml:"http"`
				} `yaml:"protocols"`
			} `yaml:"otlp"`
		} `yaml:"receivers"`
		Exporters map[string]any `yaml:"exporters"`
		Service   struct {
			Pipelines map[string]struct {
				Receivers []string `yaml:"receivers"`
				Exporters []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(endpoint, "http://"); cfg.Receivers.OTLP.Protocols.HTTP.Endpoint != want {
		t.Errorf("collector listens on %q, functions export to %q", cfg.Receivers.OTLP.Protocols.HTTP.Endpoint, endpoint)
	}
	traces := cfg.Service.Pipelines["traces"]
	if _, ok := cfg.Exporters["awsxray"]; !ok || !slices.Contains(traces.Exporters, "awsxray") || !slices.Contains(traces.Receivers, "otlp") {
		t.Errorf("collector traces pipeline %+v: want otlp → awsxray", traces)
	}

	off := map[string]string{"TracingEnabled": "false"}
	if got, _ := resolve(g["Tracing"], off); got != "PassThrough" {
		t.Errorf("TracingEnabled=false: Tracing = %q", got)
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OPENTELEMETRY_COLLECTOR_CONFIG_URI"} {
		if v, present := resolve(env[k], map[string]string{"TracingEnabled": "false"}); present {
			t.Errorf("TracingEnabled=false: %s = %q, want unset", k, v)
		}
	}
}
