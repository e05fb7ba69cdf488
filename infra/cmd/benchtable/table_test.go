package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseAndWrite(t *testing.T) {
	f, err := os.Open("testdata/ok.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Name != "BenchmarkBookingHandlerVsBareTransaction" || r.Figure != "booking through the handler" || r.Baseline != "bare TransactWriteItems" ||
		r.Unit != "ms" || r.FigureV != 6.1 || r.BaselineV != 2.4 || r.Ratio != 2.55 {
		t.Errorf("row 0 = %+v", r)
	}
	if rows[1].Name != "BenchmarkColdStart/health" || rows[2].Unit != "MB" || rows[2].Ratio != 1.99 {
		t.Errorf("rows 1, 2 = %+v, %+v", rows[1], rows[2])
	}
	var out strings.Builder
	if err := Write(&out, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("table has %d lines, want header, separator and 3 rows:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"| BookingHandlerVsBareTransaction ", "| booking through the handler ", " 6.10 |", " 2.40 |", " 2.55× |", " 1.99× |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "_aws") || strings.Contains(out.String(), "PASS") {
		t.Errorf("table carries raw output:\n%s", out.String())
	}
}

func TestParseRejects(t *testing.T) {
	ok, _ := os.ReadFile("testdata/ok.txt")
	for name, in := range map[string]string{
		"failed benchmark": string(ok) + "--- FAIL: BenchmarkX\n",
		"failed package":   string(ok) + "FAIL\tgithub.com/labchain/appointments/shared/app\t3.2s\n",
		"panic":            string(ok) + "panic: boom\n",
		"no baseline":      string(ok) + "BenchmarkBare-2   200   100 ns/op   3 B/op\n",
		"no labels":        string(ok) + "BenchmarkY-2   200   100 ns/op   1 figure-ms   1 baseline-ms   1 median-ratio\n",
		"empty":            "PASS\n",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
