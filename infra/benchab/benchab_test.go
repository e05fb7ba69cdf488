package benchab

import (
	"strings"
	"testing"
)

// TestPairs: the pairs alternate (figure i, then baseline i), the warm-up is
// not counted, and the ratio is the median of the per-pair ratios, not the
// ratio of the medians.
func TestPairs(t *testing.T) {
	figures := []float64{100, 2, 30, 4}
	baselines := []float64{1, 1, 10, 1}
	var order []string
	f, b, r := Pairs(3, 1,
		func(i int) float64 { order = append(order, "A"); return figures[i] },
		func(i int) float64 { order = append(order, "B"); return baselines[i] })
	if got := strings.Join(order, ""); got != "ABABABAB" {
		t.Errorf("order %s, want ABABABAB", got)
	}
	// Ratios 2, 3, 4 -> 3; medians of the sides: 4 and 1 (ratio 4).
	if f != 4 || b != 1 || r != 3 {
		t.Errorf("Pairs = %v, %v, %v; want 4, 1, 3", f, b, r)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), c.in...)
		if got := Median(in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("Median changed its input: %v", in)
			}
		}
	}
}
