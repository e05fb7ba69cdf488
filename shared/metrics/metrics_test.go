package metrics_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/metrics/metricstest"
	"github.com/labchain/appointments/shared/outbox"
)

// one returns the only datum rec holds, failing t otherwise.
func one(t *testing.T, rec *metricstest.Recorder) metricstest.Datum {
	t.Helper()
	d := rec.Data(t)
	if len(d) != 1 {
		t.Fatalf("got %d data, want 1: %+v", len(d), d)
	}
	rec.Reset()
	return d[0]
}

// wantDatum checks a datum's name, unit, value and exact dimensions.
func wantDatum(t *testing.T, d metricstest.Datum, name string, unit lambdakit.Unit, value float64, dims map[string]string) {
	t.Helper()
	if d.Name != name || d.Unit != unit || d.Value != value {
		t.Errorf("datum %s %v %s, want %s %v %s", d.Name, d.Value, d.Unit, name, value, unit)
	}
	want := map[string]string{"FunctionName": "fn"}
	for k, v := range dims {
		want[k] = v
	}
	if len(d.Dimensions) != len(want) {
		t.Errorf("%s: dimensions %v, want %v", name, d.Dimensions, want)
	}
	for k, v := range want {
		if d.Dimensions[k] != v {
			t.Errorf("%s: dimension %s = %q, want %q", name, k, d.Dimensions[k], v)
		}
	}
}

func TestEmitters(t *testing.T) {
	ctx, rec := metricstest.Context(context.Background(), "fn")

	metrics.EmitAPILatency(ctx, "BookAppointment", 201, 1500*time.Microsecond)
	wantDatum(t, one(t, rec), "ApiLatency", lambdakit.UnitMilliseconds, 1.5, map[string]string{"Route": "BookAppointment", "StatusClass": "2xx"})

	metrics.EmitBookingOutcome(ctx, metrics.OperationReschedule, metrics.BookingConflict)
	wantDatum(t, one(t, rec), "BookingOutcome", lambdakit.UnitCount, 1, map[string]string{"Operation": "reschedule", "Outcome": "conflict"})

	metrics.EmitMessages(ctx, "pos-orders", metrics.MessageDeadLettered, 3)
	wantDatum(t, one(t, rec), "MessagesProcessed", lambdakit.UnitCount, 3, map[string]string{"Consumer": "pos-orders", "Outcome": "dead_lettered"})
	metrics.EmitMessages(ctx, "pos-orders", metrics.MessageProcessed, 0)
	if d := rec.Data(t); len(d) != 0 {
		t.Errorf("n = 0 wrote %+v", d)
	}

	metrics.EmitCheckupParticipant(ctx, metrics.ParticipantUnplaced, "no_capacity")
	d := one(t, rec)
	wantDatum(t, d, "CheckupParticipantOutcome", lambdakit.UnitCount, 1, map[string]string{"Outcome": "unplaced"})
	if d.Members["reason"] != "no_capacity" {
		t.Errorf("reason metadata: %v", d.Members)
	}
	metrics.EmitCheckupParticipant(ctx, metrics.ParticipantPlaced, "")
	if d := one(t, rec); d.Members["reason"] != nil {
		t.Errorf("empty reason written: %v", d.Members)
	}

	metrics.EmitNotificationOutcome(ctx, metrics.ChannelSMS, metrics.NotificationOptedOut, "reminder")
	d = one(t, rec)
	wantDatum(t, d, "NotificationOutcome", lambdakit.UnitCount, 1, map[string]string{"Channel": "sms", "Outcome": "opted_out"})
	if d.Members["kind"] != "reminder" {
		t.Errorf("kind metadata: %v", d.Members)
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{200: "2xx", 201: "2xx", 304: "3xx", 400: "4xx", 409: "4xx", 422: "4xx", 500: "5xx", 503: "5xx", 0: "5xx", 700: "5xx"} {
		if got := metrics.StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestCheckRefusesWhatDoesNotFit(t *testing.T) {
	def, ok := metrics.Lookup("BookingOutcome")
	if !ok {
		t.Fatal("BookingOutcome is not in the catalog")
	}
	good := map[string]string{"FunctionName": "f", "Operation": "book", "Outcome": "success"}
	if err := def.Check(lambdakit.UnitCount, good); err != nil {
		t.Fatalf("good datum refused: %v", err)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "-" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	bad := map[string]map[string]string{
		"unknown outcome":   with("Outcome", "timeout"),
		"unknown operation": with("Operation", "checkin"),
		"no FunctionName":   with("FunctionName", "-"),
		"empty value":       with("FunctionName", ""),
		"extra dimension":   with("Route", "BookAppointment"),
		"missing dimension": with("Outcome", "-"),
	}
	for name, dims := range bad {
		if err := def.Check(lambdakit.UnitCount, dims); err == nil {
			t.Errorf("%s: accepted %v", name, dims)
		}
	}
	if err := def.Check(lambdakit.UnitMilliseconds, good); err == nil {
		t.Error("wrong unit accepted")
	}
	if err := def.CheckDimensions([]string{"Outcome", "FunctionName", "Operation"}); err != nil {
		t.Errorf("CheckDimensions in another order: %v", err)
	}
	if err := def.CheckDimensions([]string{"Outcome", "Operation"}); err == nil {
		t.Error("CheckDimensions accepted a set without FunctionName (an alarm on a metric that does not exist)")
	}
	if _, ok := metrics.Lookup("AppointmentsBooked"); ok {
		t.Error("Lookup found a metric that is not in the catalog")
	}
}

func TestCatalogIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range metrics.Catalog() {
		if seen[d.Name] {
			t.Errorf("%s is in the catalog twice", d.Name)
		}
		seen[d.Name] = true
		if !slices.IsSorted(d.Dimensions) || !slices.Contains(d.Dimensions, "FunctionName") {
			t.Errorf("%s: dimensions %v must be sorted and include FunctionName", d.Name, d.Dimensions)
		}
		for k := range d.Values {
			if !slices.Contains(d.Dimensions, k) {
				t.Errorf("%s: values for %s, which is not one of its dimensions", d.Name, k)
			}
		}
		if d.EmittedBy == "" || d.Unit == "" {
			t.Errorf("%s: no unit or emitter", d.Name)
		}
	}
	// Catalog returns a copy: a caller cannot change the catalog.
	c := metrics.Catalog()
	c[0].Dimensions[0] = "Changed"
	if metrics.Catalog()[0].Dimensions[0] == "Changed" {
		t.Error("Catalog shares its slices")
	}
}

// The outbox declares its metric names itself; they must be the catalog's.
func TestOutboxNamesAreInTheCatalog(t *testing.T) {
	for _, name := range []string{outbox.MetricPublished, outbox.MetricPublishFailed, outbox.MetricMarkFailed,
		outbox.MetricPublishLag, outbox.MetricMalformed, outbox.MetricSwept} {
		if _, ok := metrics.Lookup(name); !ok {
			t.Errorf("outbox metric %s is not in the catalog", name)
		}
	}
}

// docs/metrics.md's table lists exactly the catalog, with each metric's unit
// and dimensions.
func TestDocsListEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\|(.*)$")
	_, table, _ := strings.Cut(string(b), "## All metrics")
	table, _, _ = strings.Cut(table, "\n## ")
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		rows[m[1]] = m[2]
	}
	for _, d := range metrics.Catalog() {
		r, ok := rows[d.Name]
		if !ok {
			t.Errorf("docs/metrics.md: no row for %s", d.Name)
			continue
		}
		cells := strings.Split(r, "|")
		if strings.TrimSpace(cells[0]) != string(d.Unit) {
			t.Errorf("docs/metrics.md: %s unit %q, want %q", d.Name, strings.TrimSpace(cells[0]), d.Unit)
		}
		var listed []string
		for _, m := range regexp.MustCompile("`([A-Za-z]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed = append(listed, m[1])
		}
		if err := d.CheckDimensions(append(listed, "FunctionName")); err != nil {
			t.Errorf("docs/metrics.md: %v", err)
		}
		for dim, vals := range d.Values {
			for _, v := range vals {
				if !strings.Contains(cells[2], v) {
					t.Errorf("docs/metrics.md: %s does not list %s value %q", d.Name, dim, v)
				}
			}
		}
	}
	for name := range rows {
		if _, ok := metrics.Lookup(name); !ok {
			t.Errorf("docs/metrics.md lists %s, which is not in the catalog", name)
		}
	}
}
