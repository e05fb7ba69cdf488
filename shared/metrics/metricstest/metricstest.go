// Package metricstest captures the EMF lines that code under test emits and
// checks them: every line must be valid Embedded Metric Format (as CloudWatch
// would extract it) and every metric must match its definition in the
// metrics catalog (name, unit, exact dimension set, closed values).
//
//	ctx, rec := metricstest.Context(ctx, "book-fn")
//	handler(ctx, ev)
//	if got := rec.Sum(t, metrics.BookingOutcome, map[string]string{metrics.DimOutcome: "success"}); got != 1 { ... }
package metricstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
)

// CloudWatch's EMF limits.
const (
	maxDimensionsPerSet = 30
	maxMetricsPerLine   = 100
)

// units are the units CloudWatch accepts.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Datum is one metric value of an EMF line.
type Datum struct {
	Name       string
	Unit       lambdakit.Unit
	Value      float64
	Namespace  string
	Dimensions map[string]string // the dimension set's names and values
	// Members are all the line's top-level members but "_aws": dimensions,
	// metric values and metadata.
	Members map[string]any
}

// ParseLine parses one EMF line and checks it against the EMF specification:
// a JSON object whose "_aws" member has a positive Timestamp and at least one
// CloudWatchMetrics directive; each directive has a Namespace, at least one
// dimension set of at most 30 names that are top-level members with
// non-empty string values, and
// 1..100 metrics, each with a name that is a top-level numeric member and a
// unit CloudWatch knows. It returns one Datum per metric and dimension set.
func ParseLine(line []byte) ([]Datum, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(line, &members); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var aws struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, ok := members["_aws"]
	if !ok {
		return nil, errors.New(`no "_aws" member`)
	}
	if err := json.Unmarshal(raw, &aws); err != nil {
		return nil, fmt.Errorf(`bad "_aws": %w`, err)
	}
	if aws.Timestamp == nil || *aws.Timestamp <= 0 {
		return nil, errors.New(`"_aws.Timestamp" is missing or not positive`)
	}
	if len(aws.CloudWatchMetrics) == 0 {
		return nil, errors.New(`"_aws.CloudWatchMetrics" is empty`)
	}
	all := map[string]any{}
	for k, v := range members {
		if k == "_aws" {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, err
		}
		all[k] = x
	}
	var out []Datum
	for _, dir := range aws.CloudWatchMetrics {
		if dir.Namespace == "" {
			return nil, errors.New("a directive has no Namespace")
		}
		if len(dir.Dimensions) == 0 {
			return nil, errors.New("a directive has no dimension set")
		}
		if len(dir.Metrics) == 0 || len(dir.Metrics) > maxMetricsPerLine {
			return nil, fmt.Errorf("a directive has %d metrics, want 1..%d", len(dir.Metrics), maxMetricsPerLine)
		}
		var sets []map[string]string
		for _, set := range dir.Dimensions {
			if len(set) > maxDimensionsPerSet {
				return nil, fmt.Errorf("dimension set %v has %d names, want at most %d", set, len(set), maxDimensionsPerSet)
			}
			vals := map[string]string{}
			for _, name := range set {
				v, ok := all[name].(string)
				if !ok || v == "" {
					return nil, fmt.Errorf("dimension %q is not a top-level non-empty string (%v)", name, all[name])
				}
				vals[name] = v
			}
			sets = append(sets, vals)
		}
		for _, m := range dir.Metrics {
			if m.Name == "" {
				return nil, errors.New("a metric has no Name")
			}
			if m.Unit != "" && !slices.Contains(units, m.Unit) {
				return nil, fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			v, ok := all[m.Name].(float64)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metric %s is not a top-level number (%v)", m.Name, all[m.Name])
			}
			unit := lambdakit.Unit(m.Unit)
			if unit == "" {
				unit = lambdakit.UnitNone
			}
			for _, set := range sets {
				out = append(out, Datum{Name: m.Name, Unit: unit, Value: v, Namespace: dir.Namespace, Dimensions: set, Members: all})
			}
		}
	}
	return out, nil
}

// CheckCatalog checks a datum against the catalog: the project's namespace,
// a known metric and Definition.Check.
func CheckCatalog(d Datum) error {
	if d.Namespace != metrics.Namespace {
		return fmt.Errorf("metric %s: namespace %q, want %q", d.Name, d.Namespace, metrics.Namespace)
	}
	def, ok := metrics.Lookup(d.Name)
	if !ok {
		return fmt.Errorf("metric %s is not in the metrics catalog (shared/metrics, docs/metrics.md)", d.Name)
	}
	return def.Check(d.Unit, d.Dimensions)
}

// Recorder collects EMF lines; it is an io.Writer safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Context returns ctx whose metrics go to a new Recorder under functionName
// (lambdakit.WithMetricsWriter), and the Recorder.
func Context(ctx context.Context, functionName string) (context.Context, *Recorder) {
	r := &Recorder{}
	return lambdakit.WithMetricsWriter(ctx, r, functionName), r
}

// Write appends EMF output.
func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Reset()
}

// Data parses every recorded line, failing t for a line that is not valid
// EMF or a metric that does not match the catalog.
func (r *Recorder) Data(t testing.TB) []Datum {
	t.Helper()
	r.mu.Lock()
	text := slices.Clone(r.buf.Bytes())
	r.mu.Unlock()
	var out []Datum
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		ds, err := ParseLine(sc.Bytes())
		if err != nil {
			t.Errorf("invalid EMF line: %v\n%s", err, sc.Bytes())
			continue
		}
		for _, d := range ds {
			if err := CheckCatalog(d); err != nil {
				t.Errorf("%v\n%s", err, sc.Bytes())
			}
		}
		out = append(out, ds...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Find returns the data of metric name whose dimensions include want (nil
// matches every datum of the metric), checking every line as Data does.
func (r *Recorder) Find(t testing.TB, name string, want map[string]string) []Datum {
	t.Helper()
	var out []Datum
	for _, d := range r.Data(t) {
		if d.Name == name && matches(d.Dimensions, want) {
			out = append(out, d)
		}
	}
	return out
}

// Sum adds the values of Find(t, name, want).
func (r *Recorder) Sum(t testing.TB, name string, want map[string]string) float64 {
	t.Helper()
	sum := 0.0
	for _, d := range r.Find(t, name, want) {
		sum += d.Value
	}
	return sum
}

func matches(dims, want map[string]string) bool {
	for k, v := range want {
		if dims[k] != v {
			return false
		}
	}
	return true
}
