package lambdakit

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Namespace is the CloudWatch namespace of every metric the project emits.
const Namespace = "LabAppointments"

// DimensionFunctionName is the dimension every metric carries.
const DimensionFunctionName = "FunctionName"

// Unit is a CloudWatch metric unit.
type Unit string

// The units the project uses; CloudWatch accepts a few more.
const (
	UnitCount        Unit = "Count"
	UnitMilliseconds Unit = "Milliseconds"
	UnitSeconds      Unit = "Seconds"
	UnitBytes        Unit = "Bytes"
	UnitPercent      Unit = "Percent"
	UnitNone         Unit = "None"
)

// maxDimensions is CloudWatch's limit of dimensions per dimension set.
const maxDimensions = 30

// metricsSink is where EMF lines go for one function.
type metricsSink struct {
	mu           sync.Mutex // one Write per line, never interleaved
	w            io.Writer
	functionName string
}

func (s *metricsSink) write(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(line) // a lost metric line must not fail the request
}

var defaultSink = &metricsSink{w: os.Stdout, functionName: lambdacontext.FunctionName}

type sinkKey struct{}

func sinkFrom(ctx context.Context) *metricsSink {
	if s, ok := ctx.Value(sinkKey{}).(*metricsSink); ok {
		return s
	}
	return defaultSink
}

// WithMetricsWriter returns ctx whose EmitMetric lines go to w under the given
// function name. The Metrics middleware does this for each invocation; tests of
// code that emits metrics use it to capture them.
func WithMetricsWriter(ctx context.Context, w io.Writer, functionName string) context.Context {
	return context.WithValue(ctx, sinkKey{}, &metricsSink{w: w, functionName: functionName})
}

// metricDef is one entry of the EMF "Metrics" array.
type metricDef struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// emfDirective is one entry of the EMF "CloudWatchMetrics" array.
type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

// emfMetadata is the EMF "_aws" block.
type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emfLine builds one Embedded Metric Format log line: the "_aws" block naming
// the metrics and dimensions, and the values as top-level members. props are
// extra members that are not metrics (searchable in Logs Insights, free of
// charge, not dimensions).
func emfLine(now time.Time, dims map[string]string, metrics []metricDef, values []float64, props map[string]any) []byte {
	names := make([]string, 0, len(dims))
	for k := range dims {
		names = append(names, k)
	}
	sort.Strings(names)
	doc := make(map[string]any, len(dims)+len(metrics)+len(props)+1)
	for k, v := range props {
		doc[k] = v
	}
	for k, v := range dims {
		doc[k] = v
	}
	for i, m := range metrics {
		v := values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0 // JSON has no NaN; CloudWatch would drop the whole line
		}
		doc[m.Name] = v
	}
	doc["_aws"] = emfMetadata{
		Timestamp: now.UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace:  Namespace,
			Dimensions: [][]string{names},
			Metrics:    metrics,
		}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return nil // only unmarshalable props can get here; drop the line
	}
	return append(line, '\n')
}

// EmitMetric writes one metric as its own EMF line, with the FunctionName
// dimension plus dims (at most 30 in all). Use it for business events, for
// example EmitMetric(ctx, "AppointmentsBooked", UnitCount, 1, nil). Outside the
// Metrics middleware it writes to stdout. A metric with no name is dropped.
func EmitMetric(ctx context.Context, name string, unit Unit, value float64, dims map[string]string) {
	EmitMetricWithMetadata(ctx, name, unit, value, dims, nil)
}

// EmitMetricWithMetadata is EmitMetric with metadata: extra members of the
// line that are neither metrics nor dimensions (what Powertools calls
// metadata). They cost nothing in CloudWatch, are searchable in Logs Insights
// and suit high-cardinality or descriptive values, such as a message kind,
// that must never become a dimension. A metadata key that is also a dimension
// or the metric's name is ignored, as are "_aws" and "requestId" (FieldRequestID,
// which the line carries from ctx); a value that cannot be encoded as JSON
// drops the line.
func EmitMetricWithMetadata(ctx context.Context, name string, unit Unit, value float64, dims map[string]string, metadata map[string]any) {
	if name == "" {
		return
	}
	if unit == "" {
		unit = UnitNone
	}
	s := sinkFrom(ctx)
	all := make(map[string]string, len(dims)+1)
	for k, v := range dims {
		if k != "" && len(all) < maxDimensions-1 {
			all[k] = v
		}
	}
	if _, ok := all[DimensionFunctionName]; !ok {
		all[DimensionFunctionName] = s.functionName
	}
	props := make(map[string]any, len(metadata)+1)
	for k, v := range metadata {
		if k != "_aws" && k != FieldRequestID {
			props[k] = v // dimensions and the metric are written over these
		}
	}
	if id := requestID(ctx); id != "" {
		props[FieldRequestID] = id
	}
	if line := emfLine(time.Now(), all, []metricDef{{Name: name, Unit: unit}}, []float64{value}, props); line != nil {
		s.write(line)
	}
}

// Metrics writes one EMF line per invocation to w with the metrics Invocations
// (1), Errors (1 when the handler returned an error, else 0) and Duration
// (milliseconds), under the dimension FunctionName, and makes w the target of
// EmitMetric for the invocation. An HTTP handler answers its own failures with
// a nil error, so HTTP 5xx are counted separately (see httpapi).
func Metrics(w io.Writer, functionName string) Middleware {
	sink := &metricsSink{w: w, functionName: functionName}
	var invoked atomic.Bool
	return func(next lambda.Handler) lambda.Handler {
		return HandlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
			cold := !invoked.Swap(true)
			ctx = context.WithValue(ctx, sinkKey{}, sink)
			start := time.Now()
			out, err := next.Invoke(ctx, payload)
			errs := 0.0
			if err != nil {
				errs = 1
			}
			props := map[string]any{FieldColdStart: cold}
			if id := requestID(ctx); id != "" {
				props[FieldRequestID] = id
			}
			line := emfLine(time.Now(),
				map[string]string{DimensionFunctionName: functionName},
				[]metricDef{{"Invocations", UnitCount}, {"Errors", UnitCount}, {"Duration", UnitMilliseconds}},
				[]float64{1, errs, durationMS(time.Since(start))},
				props)
			if line != nil {
				sink.write(line)
			}
			return out, err
		})
	}
}
