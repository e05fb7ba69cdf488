package integrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/metrics/metricstest"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/checkup"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

// workItems collects the check-up work items a roster produces.
type workItems struct {
	mu    sync.Mutex
	items []app.CheckupWork
}

func (q *workItems) SendWork(_ context.Context, items []app.CheckupWork) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, items...)
	return nil
}

// metricsCtx is a context whose logs are discarded and whose metrics a
// Recorder checks against the EMF specification and the catalog.
func metricsCtx(fn string) (context.Context, *metricstest.Recorder) {
	return metricstest.Context(lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelInfo)), fn)
}

// Three participants for the two starts of a half-hour day, and a work item
// of an unknown campaign, through the real check-up booking consumer and
// DynamoDB Local: two placed, one unplaced (reason no_capacity), one failed;
// a redelivered work item counts nothing again.
func TestCheckupParticipantOutcomes(t *testing.T) {
	client, table := testenv.Table(t)
	store := dynamo.New(client, table)
	clock := func() time.Time { return now }
	svc := app.New(store, clock)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	ctx, _ := metricsCtx("setup")
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Asok", TimeZone: "Asia/Bangkok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: []domain.DayHours{{Day: "tue", Open: "07:00", Close: "07:30"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: "Station 1", Type: domain.ResourceCollectionStation}); err != nil {
		t.Fatal(err)
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	window := domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"} // a Tuesday
	r := app.Roster{CampaignID: "acme-2026", BranchID: br.ID, ServiceID: draw.ID, Window: window}
	for i := range 3 {
		r.Participants = append(r.Participants, domain.RosterParticipant{
			ExternalID: fmt.Sprintf("emp-%d", i), Name: fmt.Sprintf("Employee %d", i), Phone: "+66812345678", Locale: "th"})
	}
	q := &workItems{}
	if err := app.NewCheckup(svc, store, q).AcceptRoster(ctx, r); err != nil {
		t.Fatal(err)
	}
	if len(q.items) != 3 {
		t.Fatalf("work items = %d, want 3", len(q.items))
	}
	var bodies []string
	for _, w := range q.items {
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(b))
	}
	unknown := q.items[0]
	unknown.CampaignID = "no-such-campaign"
	b, _ := json.Marshal(unknown)
	bodies = append(bodies, string(b))

	c := checkup.NewCheckupBookingConsumer(store, &deadLetters{}, clock)
	ctx, rec := metricsCtx("checkup-booking-fn")
	if _, err := c.Handle(ctx, sqsEvent(bodies...)); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, d := range rec.Find(t, metrics.CheckupParticipantOutcome, nil) {
		if len(d.Dimensions) != 2 || d.Dimensions["FunctionName"] != "checkup-booking-fn" || d.Unit != lambdakit.UnitCount {
			t.Errorf("datum %+v: want Count with FunctionName and Outcome only", d)
		}
		got[d.Dimensions["Outcome"]] += d.Value
		if d.Dimensions["Outcome"] == "unplaced" && d.Members["reason"] != string(domain.PlacementNoCapacity) {
			t.Errorf("unplaced without reason no_capacity: %v", d.Members)
		}
	}
	want := map[string]float64{"placed": 2, "unplaced": 1, "failed": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CheckupParticipantOutcome = %v, want %v", got, want)
	}
	if n := rec.Sum(t, metrics.MessagesProcessed, map[string]string{"Consumer": "checkup-booking", "Outcome": "processed"}); n != 3 {
		t.Errorf("MessagesProcessed processed = %v, want 3", n)
	}

	// The same work again: duplicates for the consumer, nothing settled.
	rec.Reset()
	if _, err := c.Handle(ctx, sqsEvent(bodies[:3]...)); err != nil {
		t.Fatal(err)
	}
	if d := rec.Find(t, metrics.CheckupParticipantOutcome, nil); len(d) != 0 {
		t.Errorf("redelivery counted %+v", d)
	}
}

// The LIS consumer's successful messages are what LisSilentAlarm watches:
// MessagesProcessed with Consumer=lis-sample-status and Outcome=processed.
func TestLISConsumerCountsProcessedMessages(t *testing.T) {
	client, table := testenv.Table(t)
	store := dynamo.New(client, table)
	a := bookedVisit(t, store, "apt_lis_metrics")
	c := integrations.NewLISConsumer(store, &deadLetters{}, func() time.Time { return now })
	ctx, rec := metricsCtx("lis-fn")
	if _, err := c.Handle(ctx, sqsEvent(lisBody("lis-e1", a.ID, "collected", 1), `{"schemaVersion":1}`)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"FunctionName": "lis-fn", "Consumer": "lis-sample-status", "Outcome": "processed"}
	d := rec.Find(t, metrics.MessagesProcessed, want)
	if len(d) != 1 || d[0].Value != 1 || len(d[0].Dimensions) != 3 {
		t.Errorf("processed = %+v, want one datum 1 with %v", d, want)
	}
	if n := rec.Sum(t, metrics.MessagesProcessed, map[string]string{"Outcome": "dead_lettered"}); n != 1 {
		t.Errorf("dead_lettered = %v, want 1 (the malformed message)", n)
	}
}
