package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labchain/appointments/infra/benchab"
)

// Row is one benchmark's figure, baseline and ratio.
type Row struct {
	Name               string // benchmark name without the GOMAXPROCS suffix
	Figure, Baseline   string // labels (benchab.Spec)
	Unit               string
	FigureV, BaselineV float64
	Ratio              float64
	labelled, measured bool
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output and returns the rows in the order the
// benchmarks ran. It fails on a failed test, benchmark or package, on a
// benchmark without benchab metrics, and when there is no benchmark at all.
func Parse(r io.Reader) ([]Row, error) {
	var rows []*Row
	byName := map[string]*Row{}
	row := func(name string) *Row {
		if r, ok := byName[name]; ok {
			return r
		}
		r := &Row{Name: name}
		byName[name] = r
		rows = append(rows, r)
		return r
	}
	var failures []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			failures = append(failures, trimmed)
		case strings.Contains(line, benchab.LabelPrefix):
			rest := line[strings.Index(line, benchab.LabelPrefix)+len(benchab.LabelPrefix):]
			parts := strings.Split(rest, " | ")
			if len(parts) != 4 {
				return nil, fmt.Errorf("malformed label line %q", line)
			}
			r := row(strings.TrimSpace(parts[0]))
			r.Figure, r.Baseline, r.Unit, r.labelled = parts[1], parts[2], strings.TrimSpace(parts[3]), true
		case strings.HasPrefix(line, "Benchmark"):
			fields := strings.Fields(line)
			if len(fields) < 4 {
				continue // a benchmark's name line before its log, or a skipped one
			}
			if _, err := strconv.Atoi(fields[1]); err != nil {
				continue
			}
			r := row(procsSuffix.ReplaceAllString(fields[0], ""))
			var haveF, haveB, haveR bool
			for i := 2; i+1 < len(fields); i += 2 {
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: value %q: %v", r.Name, fields[i], err)
				}
				unit := fields[i+1]
				switch {
				case strings.HasPrefix(unit, benchab.FigurePrefix):
					r.FigureV, haveF = v, true
				case strings.HasPrefix(unit, benchab.BaselinePrefix):
					r.BaselineV, haveB = v, true
				case unit == benchab.RatioUnit:
					r.Ratio, haveR = v, true
				}
			}
			if !haveF || !haveB || !haveR {
				return nil, fmt.Errorf("%s reports no figure, baseline and ratio (use infra/benchab): %s", r.Name, line)
			}
			r.measured = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(failures) > 0 {
		return nil, errors.New("benchmarks failed: " + strings.Join(failures, "; "))
	}
	var out []Row
	for _, r := range rows {
		if !r.measured {
			return nil, fmt.Errorf("%s logged labels but reported no result", r.Name)
		}
		if !r.labelled {
			return nil, fmt.Errorf("%s reported no labels (use infra/benchab)", r.Name)
		}
		out = append(out, *r)
	}
	if len(out) == 0 {
		return nil, errors.New("no benchmark results in the input")
	}
	return out, nil
}

// Write prints rows as one Markdown table (readable in a terminal, and
// pasted as is into the README's Performance section).
func Write(w io.Writer, rows []Row) error {
	table := [][]string{{"benchmark", "measured (A)", "baseline (B)", "unit", "A", "B", "A/B"}}
	for _, r := range rows {
		table = append(table, []string{strings.TrimPrefix(r.Name, "Benchmark"), r.Figure, r.Baseline, r.Unit,
			num(r.FigureV), num(r.BaselineV), num(r.Ratio) + "×"})
	}
	width := make([]int, len(table[0]))
	for _, cells := range table {
		for i, c := range cells {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i >= 4 { // numbers right-aligned
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(table[0])
	sep := make([]string, len(width))
	for i, n := range width {
		sep[i] = strings.Repeat("-", n)
		if i >= 4 {
			sep[i] = strings.Repeat("-", n-1) + ":"
		}
	}
	line(sep)
	for _, cells := range table[1:] {
		line(cells)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// num formats v with about three significant digits, without exponents.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.1 || a == 0:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}
