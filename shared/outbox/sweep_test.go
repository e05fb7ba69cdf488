package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// fakeSource returns fixed events and records its arguments.
type fakeSource struct {
	evs       []events.CloudEvent
	err       error
	olderThan time.Time
	limit     int
	failures  []string
}

// RecordOutboxFailure records the failures; none parks.
func (f *fakeSource) RecordOutboxFailure(_ context.Context, eventID, reason string, _ time.Time, permanent bool) (bool, error) {
	f.failures = append(f.failures, eventID)
	return false, nil
}

func (f *fakeSource) PendingOutbox(_ context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error) {
	f.olderThan, f.limit = olderThan, limit
	return f.evs, f.err
}

func TestSweep(t *testing.T) {
	evs := []events.CloudEvent{cloudEvent(t, 1, domain.EventAppointmentBooked), cloudEvent(t, 2, domain.EventAppointmentNoShow)}
	src := &fakeSource{evs: evs}
	s, m := &fakeSender{}, &fakeMarker{}
	now := t0.Add(time.Hour)
	sw := NewSweeper(newPublisher(t, s, m), src, 2*time.Minute, 50, func() time.Time { return now })
	ctx, _, emf := testCtx()
	res, err := sw.Handle(ctx, SweepRequest{})
	if err != nil || res != (SweepResult{Pending: 2, Published: 2}) {
		t.Fatalf("result %+v, %v", res, err)
	}
	if !src.olderThan.Equal(now.Add(-2*time.Minute)) || src.limit != 50 {
		t.Fatalf("asked for records older than %v, limit %d", src.olderThan, src.limit)
	}
	if len(s.messages()) != 3 || strings.Join(m.ids(), " ") != "evt_1 evt_2" {
		t.Fatalf("sent %v, marked %v", s.messages(), m.ids())
	}
	if v, _ := metric(t, emf, MetricSwept); v != 2 {
		t.Fatalf("OutboxSwept = %v", v)
	}

	// Failures: the run fails, the record stays for the next one.
	s.fail = map[string]error{notificationsURL + " evt_1": errors.New("sqs down")}
	res, err = sw.Handle(ctx, SweepRequest{})
	if err == nil || res != (SweepResult{Pending: 2, Published: 1, Failed: 1}) {
		t.Fatalf("result %+v, %v", res, err)
	}

	// Malformed records reported with valid ones: the valid ones go out.
	src.err = errors.New("dynamo: 1 malformed outbox records")
	s.fail = nil
	if res, err := sw.Handle(ctx, SweepRequest{}); err != nil || res.Published != 2 {
		t.Fatalf("with malformed records: %+v, %v", res, err)
	}
	// Listing fails: the run fails.
	src.evs = nil
	if _, err := sw.Handle(ctx, SweepRequest{}); err == nil {
		t.Fatal("a failed listing must fail the run")
	}
	// The scheduled time, when given, is the reference (else the clock).
	sched := t0.Add(10 * time.Minute)
	for _, req := range []SweepRequest{{ScheduledTime: sched}, {Time: sched}} {
		_, _ = sw.Handle(ctx, req) // the listing still fails here; the cutoff asked is what counts
		if !src.olderThan.Equal(sched.Add(-2 * time.Minute)) {
			t.Fatalf("%+v: asked for records older than %v", req, src.olderThan)
		}
	}
	var req SweepRequest
	if err := json.Unmarshal([]byte(`{"scheduledTime":"2026-11-25T10:10:00Z","other":1}`), &req); err != nil || !req.ScheduledTime.Equal(sched) {
		t.Fatalf("ScheduleV2 input decoded as %+v, %v", req, err)
	}
	if err := json.Unmarshal([]byte(`{}`), &req); err != nil {
		t.Fatal(err)
	}

	// Nothing pending: nothing sent.
	src.err = nil
	calls := s.calls
	if res, err := sw.Handle(ctx, SweepRequest{}); err != nil || res != (SweepResult{}) || s.calls != calls {
		t.Fatalf("empty sweep: %+v, %v, %d calls", res, err, s.calls-calls)
	}
}
