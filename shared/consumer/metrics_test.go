package consumer

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/metrics/metricstest"
)

// A batch with one record of each outcome writes one MessagesProcessed line
// per outcome, value 1, dimensions exactly Consumer, Outcome and
// FunctionName, each a valid EMF line in the catalog.
func TestBatchOutcomesAreCountedPerOutcome(t *testing.T) {
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{Name: "lis-sample-status"}, &eff)
	if _, err := c.Handle(bg(), event(record("m0", body("e1", "")))); err != nil {
		t.Fatal(err)
	}

	ctx, rec := metricstest.Context(lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelDebug)), "lis-fn")
	resp, err := c.Handle(ctx, event(
		record("m1", body("e2", "")),          // processed
		record("m2", body("e1", "")),          // duplicate of m0's event
		record("m3", body("e3", "permanent")), // dead-lettered
		record("m4", body("e4", "transient")), // retried
	))
	if err != nil {
		t.Fatal(err)
	}
	if ids := failedIDs(resp); len(ids) != 1 || ids[0] != "m4" || len(dlq.letters()) != 1 {
		t.Fatalf("batch: failed %v, %d dead letters", ids, len(dlq.letters()))
	}

	data := rec.Data(t)
	if len(data) != 4 {
		t.Fatalf("got %d data, want 4 (one per outcome): %+v", len(data), data)
	}
	got := map[string]float64{}
	for _, d := range data {
		if d.Name != metrics.MessagesProcessed || d.Unit != lambdakit.UnitCount {
			t.Errorf("datum %s %s, want MessagesProcessed Count", d.Name, d.Unit)
		}
		if len(d.Dimensions) != 3 || d.Dimensions["Consumer"] != "lis-sample-status" || d.Dimensions["FunctionName"] != "lis-fn" {
			t.Errorf("dimensions %v, want Consumer=lis-sample-status, FunctionName=lis-fn, Outcome", d.Dimensions)
		}
		got[d.Dimensions["Outcome"]] += d.Value
	}
	want := map[string]float64{"processed": 1, "duplicate": 1, "dead_lettered": 1, "retried": 1}
	for o, n := range want {
		if got[o] != n {
			t.Errorf("Outcome=%s: %v, want %v (all: %v)", o, got[o], n, got)
		}
	}
}

// Outcomes that did not occur write nothing, so that an alarm on missing
// Outcome=processed data ("the LIS has gone quiet") is not fed zeros.
func TestOutcomesNotSeenWriteNothing(t *testing.T) {
	var eff effects
	c, _, _ := newTestConsumer(t, Options{}, &eff)
	ctx, rec := metricstest.Context(bg(), "fn")
	if _, err := c.Handle(ctx, event(record("m1", body("e1", "transient")), record("m2", body("e2", "")))); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Find(t, metrics.MessagesProcessed, map[string]string{"Outcome": "processed"})); n != 1 {
		t.Errorf("processed lines = %d, want 1", n)
	}
	rec.Reset()
	if _, err := c.Handle(ctx, event(record("m3", body("e3", "transient")), record("m4", body("e4", "permanent")))); err != nil {
		t.Fatal(err)
	}
	if d := rec.Find(t, metrics.MessagesProcessed, map[string]string{"Outcome": "processed"}); len(d) != 0 {
		t.Errorf("a batch with nothing processed wrote %+v", d)
	}
	if got := rec.Sum(t, metrics.MessagesProcessed, nil); got != 2 {
		t.Errorf("sum of all outcomes = %v, want 2", got)
	}
}
