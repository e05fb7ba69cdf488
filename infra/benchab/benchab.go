// Package benchab is the harness of the project's A/B benchmarks: a measured
// path (the figure) and its baseline run alternately (A B A B ...) after a
// warm-up, so drift on a shared machine (JIT warm-up of DynamoDB Local, other
// builds, CPU frequency) lands on both sides, and the result is the median of
// the per-pair ratios. Every benchmark that `make bench` runs reports through
// Report, in the units that infra/cmd/benchtable turns into the one table.
package benchab

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// Metric units of the benchmark output that benchtable reads. A benchmark
// line carries FigureUnit+unit, BaselineUnit+unit and RatioUnit; the line
// "benchab: <name> | <figure label> | <baseline label> | <unit>" logged by
// Report names its row.
const (
	FigurePrefix   = "figure-"
	BaselinePrefix = "baseline-"
	RatioUnit      = "median-ratio"
	LabelPrefix    = "benchab: "
)

// Spec describes one A/B comparison.
type Spec struct {
	Figure   string // what is measured, e.g. "booking through the handler"
	Baseline string // what it is compared with, e.g. "bare TransactWriteItems"
	Unit     string // unit of the values, without spaces: "ms", "MB", "msgs/s"
	WarmUp   int    // pairs run first and not counted
}

// Durations runs spec.WarmUp+b.N pairs, figure(i) then baseline(i) for the
// i-th pair (i counts the warm-up too, from 0); each returns the duration of
// what it measured. It reports the median of each side in milliseconds and
// the median of the per-pair ratios figure/baseline.
func Durations(b *testing.B, spec Spec, figure, baseline func(i int) time.Duration) {
	b.Helper()
	Values(b, spec, func(i int) float64 { return ms(figure(i)) }, func(i int) float64 { return ms(baseline(i)) })
}

// Values is Durations for any measured value (a size, a rate).
func Values(b *testing.B, spec Spec, figure, baseline func(i int) float64) {
	b.Helper()
	b.StopTimer()
	f, base, ratio := Pairs(b.N, spec.WarmUp, figure, baseline)
	Report(b, spec, f, base, ratio)
}

// Pairs runs warmUp+n pairs, figure(i) then baseline(i), and returns the
// medians of the n measured figures and baselines and the median of their n
// per-pair ratios figure/baseline (pairs with a zero baseline have no ratio).
func Pairs(n, warmUp int, figure, baseline func(i int) float64) (medFigure, medBaseline, medRatio float64) {
	var fs, bs, rs []float64
	for i := 0; i < warmUp+n; i++ {
		f := figure(i)
		base := baseline(i)
		if i < warmUp {
			continue
		}
		fs, bs = append(fs, f), append(bs, base)
		if base != 0 {
			rs = append(rs, f/base)
		}
	}
	return Median(fs), Median(bs), Median(rs)
}

// Report reports one row: the figure, its baseline and their ratio (for
// measurements that are not pairs of samples, e.g. sizes).
func Report(b *testing.B, spec Spec, figure, baseline, ratio float64) {
	b.Helper()
	if strings.ContainsAny(spec.Unit, " \t") || spec.Unit == "" {
		b.Fatalf("benchab: unit %q must be one word", spec.Unit)
	}
	b.ReportMetric(figure, FigurePrefix+spec.Unit)
	b.ReportMetric(baseline, BaselinePrefix+spec.Unit)
	b.ReportMetric(ratio, RatioUnit)
	// Benchmarks always print their log, so benchtable finds the labels.
	b.Logf("%s%s | %s | %s | %s", LabelPrefix, b.Name(), spec.Figure, spec.Baseline, spec.Unit)
}

// Median returns the median of xs (0 for none); xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// String formats a spec for messages.
func (s Spec) String() string { return fmt.Sprintf("%s vs %s (%s)", s.Figure, s.Baseline, s.Unit) }
