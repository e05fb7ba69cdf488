package lambdakit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics/metricstest"
)

// Metadata lands on the line as plain members, and never replaces what makes
// the line a metric: its dimensions, its value, "_aws" or the request id.
func TestEmitMetricWithMetadata(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx, rec := metricstest.Context(ctx, "notify-fn")
	lambdakit.EmitMetricWithMetadata(ctx, "NotificationOutcome", lambdakit.UnitCount, 1,
		map[string]string{"Channel": "sms", "Outcome": "sent"},
		map[string]any{
			"kind":                "reminder",
			"attempt":             2,
			"Channel":             "email", // a dimension: ignored
			"NotificationOutcome": 99,      // the metric: ignored
			"_aws":                "gone",  // the EMF block: ignored
			"requestId":           "forged",
		})

	data := rec.Data(t)
	if len(data) != 1 {
		t.Fatalf("got %d data, want 1", len(data))
	}
	d := data[0]
	if d.Name != "NotificationOutcome" || d.Value != 1 || d.Unit != lambdakit.UnitCount {
		t.Errorf("datum %s %v %s", d.Name, d.Value, d.Unit)
	}
	want := map[string]string{"Channel": "sms", "Outcome": "sent", "FunctionName": "notify-fn"}
	if len(d.Dimensions) != len(want) {
		t.Errorf("dimensions %v, want %v", d.Dimensions, want)
	}
	for k, v := range want {
		if d.Dimensions[k] != v {
			t.Errorf("dimension %s = %q, want %q", k, d.Dimensions[k], v)
		}
	}
	if d.Members["kind"] != "reminder" || d.Members["attempt"] != 2.0 || d.Members["requestId"] != "req-1" {
		t.Errorf("members %v: want kind, attempt and the invocation's request id", d.Members)
	}

	// Outside an invocation there is no request id, and none can be forged.
	ctx, rec = metricstest.Context(context.Background(), "notify-fn")
	lambdakit.EmitMetricWithMetadata(ctx, "NotificationOutcome", lambdakit.UnitCount, 1,
		map[string]string{"Channel": "sms", "Outcome": "sent"}, map[string]any{"requestId": "forged"})
	if data := rec.Data(t); len(data) != 1 || data[0].Members["requestId"] != nil {
		t.Errorf("forged request id: %+v", data)
	}
}

// A metadata value JSON cannot encode drops the whole line rather than write
// a broken one; EmitMetric has no such failure.
func TestEmitMetricWithUnencodableMetadataWritesNothing(t *testing.T) {
	ctx, rec := metricstest.Context(context.Background(), "f")
	lambdakit.EmitMetricWithMetadata(ctx, "BookingOutcome", lambdakit.UnitCount, 1,
		map[string]string{"Operation": "book", "Outcome": "success"}, map[string]any{"bad": make(chan int)})
	if d := rec.Data(t); len(d) != 0 {
		t.Errorf("wrote %+v", d)
	}
	lambdakit.EmitMetricWithMetadata(ctx, "BookingOutcome", lambdakit.UnitCount, 1,
		map[string]string{"Operation": "book", "Outcome": "success"}, nil)
	if d := rec.Data(t); len(d) != 1 {
		t.Errorf("nil metadata: got %+v, want one datum", d)
	}
}

// The per-invocation line of the Metrics middleware is valid EMF and matches
// the catalog (Invocations, Errors, Duration under FunctionName).
func TestMetricsMiddlewareLineMatchesTheCatalog(t *testing.T) {
	rec := &metricstest.Recorder{}
	h := lambdakit.Metrics(rec, "book-fn")(lambdakit.HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		return nil, nil
	}))
	if _, err := h.Invoke(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range rec.Data(t) {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "Invocations,Errors,Duration" {
		t.Errorf("metrics %q", got)
	}
}

// The validator rejects what CloudWatch would not extract; a line it
// accepts from EmitMetric is the reference.
func TestEMFValidatorRejectsBrokenLines(t *testing.T) {
	ctx, rec := metricstest.Context(context.Background(), "f")
	lambdakit.EmitMetric(ctx, "ServerErrors", lambdakit.UnitCount, 1, nil)
	if d := rec.Data(t); len(d) != 1 || d[0].Dimensions["FunctionName"] != "f" {
		t.Fatalf("reference line: %+v", d)
	}
	ts := `"Timestamp":1764060000000`
	broken := map[string]string{
		"not JSON":            `{"_aws":`,
		"no _aws":             `{"X":1,"FunctionName":"f"}`,
		"no timestamp":        `{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f","X":1}`,
		"no directive":        `{"_aws":{` + ts + `,"CloudWatchMetrics":[]},"X":1}`,
		"no namespace":        `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f","X":1}`,
		"no dimension sets":   `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"X","Unit":"Count"}]}]},"X":1}`,
		"dimension missing":   `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"X":1}`,
		"dimension empty":     `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"","X":1}`,
		"dimension a number":  `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":3,"X":1}`,
		"metric missing":      `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f"}`,
		"metric a string":     `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f","X":"1"}`,
		"unknown unit":        `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Requests"}]}]},"F":"f","X":1}`,
		"no metrics":          `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[]}]},"F":"f"}`,
		"31 dimensions":       `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[` + strings.Repeat(`"F",`, 30) + `"F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f","X":1}`,
		"nameless metric":     `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Unit":"Count"}]}]},"F":"f"}`,
		"negative timestamp":  `{"_aws":{"Timestamp":-1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"F":"f","X":1}`,
		"directive not array": `{"_aws":{` + ts + `,"CloudWatchMetrics":{}},"X":1}`,
	}
	for name, line := range broken {
		if d, err := metricstest.ParseLine([]byte(line)); err == nil {
			t.Errorf("%s: accepted as %+v", name, d)
		}
	}
	ok := `{"_aws":{` + ts + `,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"],["F","G"]],"Metrics":[{"Name":"X","Unit":"Count"},{"Name":"Y"}]}]},"F":"f","G":"g","X":1,"Y":2.5}`
	d, err := metricstest.ParseLine([]byte(ok))
	if err != nil || len(d) != 4 || d[3].Name != "Y" || d[3].Unit != lambdakit.UnitNone || d[3].Dimensions["G"] != "g" {
		t.Errorf("two metrics × two dimension sets: %+v, %v", d, err)
	}
}
