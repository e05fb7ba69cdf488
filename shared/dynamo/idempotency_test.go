package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/idempotency"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func inProgress(key, hash string, now time.Time) idempotency.Record {
	return idempotency.Record{
		Key: key, Hash: hash, Status: idempotency.StatusInProgress,
		InProgressUntil: now.Add(30 * time.Second), ExpiresAt: now.Add(24 * time.Hour),
	}
}

func getRecord(tb testing.TB, s *Store, key string) *idempotency.Record {
	tb.Helper()
	out, err := s.db.GetItem(context.Background(), getInput(s, key))
	ok(tb, err)
	if out.Item == nil {
		return nil
	}
	r := recordFrom(out.Item)
	return &r
}

func TestIdempotencyBeginCompleteRelease(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	existing, err := s.Begin(ctx, inProgress("u1:k1", "h1", t0), t0)
	ok(t, err)
	if existing != nil {
		t.Fatalf("first Begin returned %+v", existing)
	}

	// Duplicate while the first runs: the INPROGRESS record comes back.
	existing, err = s.Begin(ctx, inProgress("u1:k1", "h2", t0.Add(time.Second)), t0.Add(time.Second))
	ok(t, err)
	if existing == nil || existing.Status != idempotency.StatusInProgress || existing.Hash != "h1" || existing.Key != "u1:k1" ||
		!existing.InProgressUntil.Equal(t0.Add(30*time.Second)) || !existing.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("existing = %+v", existing)
	}

	// Complete with another hash: refused.
	wrong := &idempotency.Claim{Key: "u1:k1", Hash: "h2", SuccessStatus: 201}
	wantCode(t, s.Complete(ctx, wrong, 201, []byte(`{}`)), apperr.Conflict)
	if wrong.Completed {
		t.Fatal("Completed set on failure")
	}

	claim := &idempotency.Claim{Key: "u1:k1", Hash: "h1", SuccessStatus: 201, ExpiresAt: t0.Add(25 * time.Hour)}
	ok(t, s.Complete(ctx, claim, 201, []byte(`{"id":"apt_1"}`)))
	if !claim.Completed {
		t.Fatal("Completed not set")
	}
	// Completing twice is refused (no longer INPROGRESS).
	wantCode(t, s.Complete(ctx, claim, 201, []byte(`{}`)), apperr.Conflict)

	// A later duplicate, even after InProgressUntil, gets the stored response.
	later := t0.Add(time.Hour)
	existing, err = s.Begin(ctx, inProgress("u1:k1", "h1", later), later)
	ok(t, err)
	if existing == nil || existing.Status != idempotency.StatusCompleted || existing.StatusCode != 201 ||
		string(existing.Body) != `{"id":"apt_1"}` || !existing.ExpiresAt.Equal(t0.Add(25*time.Hour)) {
		t.Fatalf("existing = %+v", existing)
	}

	// Release leaves a COMPLETED record alone.
	ok(t, s.Release(ctx, &idempotency.Claim{Key: "u1:k1", InProgressUntil: t0.Add(30 * time.Second)}))
	if r := getRecord(t, s, "u1:k1"); r == nil || r.Status != idempotency.StatusCompleted {
		t.Fatalf("record after Release of COMPLETED: %+v", r)
	}

	// After expiry the record counts as absent and is replaced.
	expired := t0.Add(25*time.Hour + time.Second)
	existing, err = s.Begin(ctx, inProgress("u1:k1", "h9", expired), expired)
	ok(t, err)
	if existing != nil {
		t.Fatalf("Begin after expiry returned %+v", existing)
	}
	if r := getRecord(t, s, "u1:k1"); r.Status != idempotency.StatusInProgress || r.Hash != "h9" || r.Body != nil || r.StatusCode != 0 {
		t.Fatalf("record after takeover: %+v", r)
	}

	// A late release by a claim that lapsed before this takeover leaves the
	// new holder's record alone.
	ok(t, s.Release(ctx, &idempotency.Claim{Key: "u1:k1", InProgressUntil: t0.Add(30 * time.Second)}))
	if r := getRecord(t, s, "u1:k1"); r == nil || r.Hash != "h9" || r.Status != idempotency.StatusInProgress {
		t.Fatalf("a stale claim's release removed the new holder's record: %+v", r)
	}
	// Release deletes the claim's own INPROGRESS record; releasing nothing is fine.
	mine := &idempotency.Claim{Key: "u1:k1", InProgressUntil: inProgress("u1:k1", "h9", expired).InProgressUntil}
	ok(t, s.Release(ctx, mine))
	if r := getRecord(t, s, "u1:k1"); r != nil {
		t.Fatalf("record after Release: %+v", r)
	}
	ok(t, s.Release(ctx, mine))
	existing, err = s.Begin(ctx, inProgress("u1:k1", "h1", expired), expired)
	ok(t, err)
	if existing != nil {
		t.Fatalf("Begin after Release returned %+v", existing)
	}
}

func TestIdempotencyExpiredInProgressIsTakenOver(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	_, err := s.Begin(ctx, inProgress("k", "h1", t0), t0)
	ok(t, err)

	// Exactly at InProgressUntil the first request still owns it.
	edge := t0.Add(30 * time.Second)
	existing, err := s.Begin(ctx, inProgress("k", "h1", edge), edge)
	ok(t, err)
	if existing == nil {
		t.Fatal("taken over at InProgressUntil")
	}

	// The first Lambda died: after InProgressUntil a retry takes over.
	after := edge.Add(time.Millisecond)
	existing, err = s.Begin(ctx, inProgress("k", "h1", after), after)
	ok(t, err)
	if existing != nil {
		t.Fatalf("expired in-progress record not taken over: %+v", existing)
	}
	if r := getRecord(t, s, "k"); !r.InProgressUntil.Equal(after.Add(30 * time.Second)) {
		t.Fatalf("record: %+v", r)
	}
	// The dead request's late completion finds the new owner's record: its
	// hash matches (same request), so it completes; that is the Powertools
	// semantics too.
}

func TestClaimCompletedInsideBookingTransaction(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	_, err := s.Begin(ctx, inProgress("u1:book", "hb", t0), t0)
	ok(t, err)
	claim := &idempotency.Claim{Key: "u1:book", Hash: "hb", SuccessStatus: 201, Render: wireOnly}
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	ok(t, s.CreateAppointment(idempotency.NewContext(ctx, claim), a, booking(a), booked(a)))
	if !claim.Completed {
		t.Fatal("claim not marked completed")
	}
	// The body is the claim's rendering (the HTTP layer's), not the store's
	// own encoding of the appointment.
	want, _ := wireOnly(a)
	r := getRecord(t, s, "u1:book")
	if r.Status != idempotency.StatusCompleted || r.StatusCode != 201 || string(r.Body) != string(want) {
		t.Fatalf("record = %+v\nbody %s\nwant %s", r, r.Body, want)
	}

	// A failing booking (taken cell) leaves the claim INPROGRESS.
	_, err = s.Begin(ctx, inProgress("u2:book", "hb2", t0), t0)
	ok(t, err)
	claim2 := &idempotency.Claim{Key: "u2:book", Hash: "hb2", SuccessStatus: 201, Render: routeRender}
	a2 := appt("apt_2", "br_1", "pat_2", at(1, 9, 15), 1, "res_a")
	wantCode(t, s.CreateAppointment(idempotency.NewContext(ctx, claim2), a2, booking(a2), booked(a2)), apperr.SlotUnavailable)
	if claim2.Completed {
		t.Fatal("claim marked completed after a failed transaction")
	}
	if r := getRecord(t, s, "u2:book"); r.Status != idempotency.StatusInProgress || r.Body != nil {
		t.Fatalf("record after failed booking: %+v", r)
	}

	// A claim whose record changed (another hash, or gone): CONFLICT, nothing booked.
	before := countEntities(t, raw, s.Table())
	stolen := &idempotency.Claim{Key: "u2:book", Hash: "other", SuccessStatus: 201, Render: routeRender}
	a3 := appt("apt_3", "br_1", "pat_3", at(1, 11, 0), 1, "res_a")
	wantCode(t, s.CreateAppointment(idempotency.NewContext(ctx, stolen), a3, booking(a3), booked(a3)), apperr.Conflict)
	gone := &idempotency.Claim{Key: "u3:never-begun", Hash: "h", SuccessStatus: 201, Render: routeRender}
	wantCode(t, s.CreateAppointment(idempotency.NewContext(ctx, gone), a3, booking(a3), booked(a3)), apperr.Conflict)
	sameJSON(t, "items", countEntities(t, raw, s.Table()), before)

	// Update completes its claim with the claim's rendering of next.
	_, err = s.Begin(ctx, inProgress("u1:move", "hm", t0), t0)
	ok(t, err)
	mclaim := &idempotency.Claim{Key: "u1:move", Hash: "hm", SuccessStatus: 200, Render: wireOnly}
	b := moved(a, at(1, 13, 0))
	ok(t, s.update(idempotency.NewContext(ctx, mclaim), a, b, change(a, b), changed(b)))
	want, _ = wireOnly(b)
	if r := getRecord(t, s, "u1:move"); !mclaim.Completed || r.Status != idempotency.StatusCompleted || r.StatusCode != 200 || string(r.Body) != string(want) {
		t.Fatalf("record after move = %+v", r)
	}

	// A failing update leaves its claim INPROGRESS.
	_, err = s.Begin(ctx, inProgress("u1:move2", "hm2", t0), t0)
	ok(t, err)
	mclaim2 := &idempotency.Claim{Key: "u1:move2", Hash: "hm2", SuccessStatus: 200, Render: routeRender}
	c := moved(a, at(1, 14, 0)) // stale: prev is a, current is b
	wantCode(t, s.update(idempotency.NewContext(ctx, mclaim2), a, c, change(a, c), changed(c)), apperr.Conflict)
	if r := getRecord(t, s, "u1:move2"); mclaim2.Completed || r.Status != idempotency.StatusInProgress {
		t.Fatalf("record after failed move = %+v", r)
	}
}

// routeRender is what the HTTP layer puts in a booking's claim: the booking
// route's renderer (the JSON of its wire type).
var routeRender = httpapi.BookAppointment(nil).RenderAppointment

// wireOnly is a renderer in a format that no encoding of the appointment by
// the store could produce, to tell a body the HTTP layer rendered from one the
// store made itself.
func wireOnly(a domain.Appointment) ([]byte, error) {
	return []byte(fmt.Sprintf(`{"wireOnly":true,"ref":%q,"rev":%d}`, a.ID, a.Version)), nil
}

func TestClaimWithoutRendererIsRefused(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	_, err := s.Begin(ctx, inProgress("u1:bare", "hb", t0), t0)
	ok(t, err)
	before := countEntities(t, raw, s.Table())
	claim := &idempotency.Claim{Key: "u1:bare", Hash: "hb", SuccessStatus: 201}
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 1, "res_a")
	wantCode(t, s.CreateAppointment(idempotency.NewContext(ctx, claim), a, booking(a), booked(a)), apperr.Internal)
	if claim.Completed {
		t.Fatal("claim completed without a body")
	}
	sameJSON(t, "items", countEntities(t, raw, s.Table()), before)

	// Without a claim the same booking goes through (positive control).
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	b := moved(a, at(1, 13, 0))
	wantCode(t, s.update(idempotency.NewContext(ctx, claim), a, b, change(a, b), changed(b)), apperr.Internal)
	if r := getRecord(t, s, "u1:bare"); claim.Completed || r.Status != idempotency.StatusInProgress {
		t.Fatalf("record after a refused update = %+v", r)
	}
}
