package dynamo

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/ids"
)

func TestWatermarkOnlyMovesForward(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, found, err := s.GetWatermark(ctx, "reminders"); err != nil || found {
		t.Fatalf("fresh watermark: found %v, err %v", found, err)
	}
	t1 := time.Date(2026, 12, 1, 3, 4, 5, 600, time.UTC)
	ok(t, s.AdvanceWatermark(ctx, "reminders", t1.In(bangkok)))
	ok(t, s.AdvanceWatermark(ctx, "reminders", t1.Add(-time.Hour)))       // backwards: ignored
	ok(t, s.AdvanceWatermark(ctx, "reminders", t1.Add(-time.Nanosecond))) // also backwards
	got, found, err := s.GetWatermark(ctx, "reminders")
	ok(t, err)
	if !found || !got.Equal(t1) {
		t.Fatalf("watermark = %v (found %v), want %v", got, found, t1)
	}
	if _, found, _ := s.GetWatermark(ctx, "pdpa"); found {
		t.Fatal("jobs share a watermark")
	}

	// Concurrent advances end at the latest of them, whatever the order.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok(t, s.AdvanceWatermark(ctx, "sweep", t1.Add(time.Duration((i*7)%20)*time.Minute)))
		}()
	}
	wg.Wait()
	got, _, err = s.GetWatermark(ctx, "sweep")
	ok(t, err)
	if want := t1.Add(19 * time.Minute); !got.Equal(want) {
		t.Fatalf("after concurrent advances = %v, want %v", got, want)
	}
}

func TestAppointmentsStarting(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i, start := range []time.Time{at(1, 8, 0), at(1, 9, 0), at(1, 9, 0), at(1, 10, 0), at(2, 9, 0)} {
		a := appt("apt_"+string(rune('a'+i)), "br_1", "pat_1", start, 1, "res_"+string(rune('a'+i)))
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	}
	other := appt("apt_other", "br_2", "pat_1", at(1, 9, 0), 1, "res_x")
	ok(t, s.CreateAppointment(ctx, other, booking(other), booked(other)))

	got, err := s.AppointmentsStarting(ctx, "br_1", "2026-12-01", at(1, 9, 0), at(1, 10, 0))
	ok(t, err)
	var idsGot []string
	for _, a := range got {
		idsGot = append(idsGot, a.ID)
	}
	// Both bounds are inclusive; other branches and days are not listed.
	if want := []string{"apt_b", "apt_c", "apt_d"}; !slices.Equal(idsGot, want) {
		t.Fatalf("listed %v, want %v", idsGot, want)
	}
	if got[0].Patient.Name == "" || len(got[0].Cells) != 1 {
		t.Fatalf("listed appointment not fully decoded: %+v", got[0])
	}
	got, err = s.AppointmentsStarting(ctx, "br_1", "2026-12-01", at(1, 8, 1), at(1, 8, 59))
	ok(t, err)
	if len(got) != 0 {
		t.Fatalf("empty range listed %d", len(got))
	}
}

// reminderEvents returns the outbox events of type appointment.reminder_due.
func reminderEvents(tb testing.TB, c *dynamodb.Client, table string) []events.CloudEvent {
	tb.Helper()
	var out []events.CloudEvent
	for _, it := range outboxItems(tb, c, table) {
		if str(it, attrOutboxEventType) != domain.EventAppointmentReminderDue {
			continue
		}
		ce, err := events.Decode([]byte(str(it, attrOutboxCloudEvent)))
		ok(tb, err)
		out = append(out, ce)
	}
	return out
}

func reminderOf(a domain.Appointment, lead int) (domain.ReminderDue, domain.Event) {
	r := domain.ReminderDue{Appointment: a, LeadMinutes: lead, SendAt: a.Start.Add(-time.Duration(lead) * time.Minute)}
	return r, domain.ReminderDueEvent(ids.New("evt"), evTime, r)
}

func TestRecordReminderOncePerLeadAndStart(t *testing.T) {
	s, raw := newStore(t)
	ctx, tp := tracedContext(t)
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))

	r, ev := reminderOf(a, 120)
	recorded, err := s.recordReminder(ctx, r, ev)
	ok(t, err)
	if !recorded {
		t.Fatal("first record: not recorded")
	}
	// Again (another run, a new event id): nothing new.
	r2, ev2 := reminderOf(a, 120)
	recorded, err = s.recordReminder(ctx, r2, ev2)
	ok(t, err)
	if recorded {
		t.Fatal("second record of the same reminder recorded")
	}
	evs := reminderEvents(t, raw, s.Table())
	if len(evs) != 1 || evs[0].ID != ev.ID || evs[0].Subject != a.ID || evs[0].TraceParent != tp {
		t.Fatalf("events %+v", evs)
	}
	var data events.ReminderDueData
	ok(t, evs[0].DecodeData(&data))
	sameJSON(t, "event data", data, events.ReminderDueDataOf(r))

	// Another lead time of the same start is another reminder.
	r3, ev3 := reminderOf(a, 1440)
	recorded, err = s.recordReminder(ctx, r3, ev3)
	ok(t, err)
	if !recorded {
		t.Fatal("the 24h reminder was not recorded")
	}

	// Rescheduled: the stale read is refused, the new start gets its own.
	next := moved(a, at(3, 9, 0))
	ok(t, s.update(ctx, a, next, change(a, next), changed(next)))
	stale, evStale := reminderOf(a, 60)
	_, err = s.recordReminder(ctx, stale, evStale)
	wantCode(t, err, apperr.Conflict)
	r4, ev4 := reminderOf(next, 120)
	recorded, err = s.recordReminder(ctx, r4, ev4)
	ok(t, err)
	if !recorded {
		t.Fatal("the new start's 2h reminder was not recorded")
	}

	// Cancelled: refused even at the current version.
	cancelled := next
	cancelled.Status, cancelled.Version, cancelled.Cells = domain.StatusCancelled, next.Version+1, nil
	ok(t, s.update(ctx, next, cancelled, change(next, cancelled), changed(cancelled)))
	r5, ev5 := reminderOf(cancelled, 30)
	_, err = s.recordReminder(ctx, r5, ev5)
	wantCode(t, err, apperr.Conflict)

	if n := len(reminderEvents(t, raw, s.Table())); n != 3 {
		t.Fatalf("%d reminder events, want 3", n)
	}
	if n := countEntities(t, raw, s.Table())[entityReminder]; n != 3 {
		t.Fatalf("%d reminder key items, want 3", n)
	}

	// The event must be the reminder's own.
	_, err = s.recordReminder(ctx, r4, domain.AppointmentEvent(ids.New("evt"), domain.EventAppointmentBooked, evTime, next))
	if err == nil {
		t.Fatal("recorded with another event type")
	}
}

func TestRecordReminderConcurrently(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	const n = 8
	var wg sync.WaitGroup
	results := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, ev := reminderOf(a, 120)
			results[i], errs[i] = s.recordReminder(ctx, r, ev)
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case errs[i] == nil && results[i]:
			won++
		case errs[i] == nil, apperr.CodeOf(errs[i]) == apperr.Conflict: // lost, or lost the race (the job retries)
		default:
			t.Fatalf("unexpected error %v", errs[i])
		}
	}
	if won != 1 || len(reminderEvents(t, raw, s.Table())) != 1 {
		t.Fatalf("%d recorded, %d events; want 1 and 1", won, len(reminderEvents(t, raw, s.Table())))
	}
}

// rawItem reads one item.
func rawItem(tb testing.TB, c *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	ok(tb, err)
	return out.Item
}

func TestExpiryIndexKeysFollowTheTTL(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	rec := inProgress("u1:k1", "h1", t0)
	_, err := s.Begin(ctx, rec, t0)
	ok(t, err)
	it := rawItem(t, raw, s.Table(), idemPK("u1:k1"), skIdem)
	if str(it, attrGSI2PK) != "EXPIRY#2026-11-26" || str(it, attrGSI2SK) != expiryCut(rec.ExpiresAt)+"#IDEM#u1:k1" {
		t.Fatalf("begun record expiry keys %q / %q", str(it, attrGSI2PK), str(it, attrGSI2SK))
	}
	// Completion with a later expiry moves the record to that day's bucket.
	later := t0.Add(72 * time.Hour)
	ok(t, s.Complete(ctx, &idempotency.Claim{Key: "u1:k1", Hash: "h1", ExpiresAt: later}, 201, nil))
	it = rawItem(t, raw, s.Table(), idemPK("u1:k1"), skIdem)
	if str(it, attrGSI2PK) != "EXPIRY#2026-11-28" || str(it, attrGSI2SK) != expiryCut(later)+"#IDEM#u1:k1" || num(it, attrTTL) != later.Unix() {
		t.Fatalf("completed record expiry keys %q / %q ttl %d", str(it, attrGSI2PK), str(it, attrGSI2SK), num(it, attrTTL))
	}

	// An outbox record gets them when published, not before.
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ev := booked(a)
	ok(t, s.CreateAppointment(ctx, a, booking(a), ev))
	if it := rawItem(t, raw, s.Table(), outboxPK(ev.ID), skEvent); it[attrGSI2PK] != nil {
		t.Fatal("a PENDING outbox record is in the expiry index")
	}
	ok(t, s.MarkPublished(ctx, ev.ID, t0))
	ok(t, s.MarkPublished(ctx, ev.ID, t0.Add(48*time.Hour))) // keeps the first
	it = rawItem(t, raw, s.Table(), outboxPK(ev.ID), skEvent)
	ttl := t0.Add(OutboxRetention)
	if str(it, attrGSI2PK) != expiryGSI2PK(ttl) || str(it, attrGSI2SK) != expiryCut(ttl)+"#"+outboxPK(ev.ID) || num(it, attrTTL) != ttl.Unix() {
		t.Fatalf("published record expiry keys %q / %q", str(it, attrGSI2PK), str(it, attrGSI2SK))
	}
}

func TestPurgeExpired(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	day := t0.Truncate(24 * time.Hour) // 2026-11-25 00:00 UTC
	begin := func(k string, expires time.Time) {
		rec := inProgress(k, "h", day.Add(-48*time.Hour))
		rec.ExpiresAt = expires
		_, err := s.Begin(ctx, rec, day.Add(-48*time.Hour))
		ok(t, err)
	}
	begin("expired-1", day.Add(time.Hour))
	begin("expired-2", day.Add(2*time.Hour))
	begin("later-today", day.Add(20*time.Hour))
	begin("tomorrow", day.Add(30*time.Hour))
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	published, pending := booked(a), domain.Event{}
	ok(t, s.CreateAppointment(ctx, a, booking(a), published))
	ok(t, s.MarkPublished(ctx, published.ID, day.Add(3*time.Hour-OutboxRetention))) // ttl 03:00 on the day
	b := appt("apt_2", "br_1", "pat_1", at(2, 10, 0), 1, "res_a")
	pending = booked(b)
	ok(t, s.CreateAppointment(ctx, b, booking(b), pending))

	now := day.Add(10 * time.Hour)
	// A record refreshed after the index was read survives: simulate by
	// extending expired-2's ttl behind the index's back.
	_, err := raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table()), Key: key(idemPK("expired-2"), skIdem),
		UpdateExpression:          aws.String("SET #ttl = :t"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": avN(now.Add(time.Hour).Unix())},
	})
	ok(t, err)

	deleted, kept, err := s.PurgeExpired(ctx, day.Format(dateLayout), now)
	ok(t, err)
	if deleted != 2 || kept != 1 {
		t.Fatalf("deleted %d, kept %d; want 2 and 1", deleted, kept)
	}
	for k, want := range map[string]bool{"expired-1": false, "expired-2": true, "later-today": true, "tomorrow": true} {
		if got := rawItem(t, raw, s.Table(), idemPK(k), skIdem) != nil; got != want {
			t.Errorf("record %s present = %v, want %v", k, got, want)
		}
	}
	if rawItem(t, raw, s.Table(), outboxPK(published.ID), skEvent) != nil {
		t.Error("expired published outbox record kept")
	}
	if rawItem(t, raw, s.Table(), outboxPK(pending.ID), skEvent) == nil {
		t.Error("pending outbox record deleted")
	}
	if rawItem(t, raw, s.Table(), apptPK(a.ID), skMeta) == nil {
		t.Error("appointment deleted")
	}
	// Idempotent.
	deleted, _, err = s.PurgeExpired(ctx, day.Format(dateLayout), now)
	ok(t, err)
	if deleted != 0 {
		t.Fatalf("second purge deleted %d", deleted)
	}
}

func TestAnonymizeAppointment(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	next := a
	next.Status, next.Version, next.UpdatedAt = domain.StatusCompleted, 2, a.UpdatedAt.Add(time.Hour)
	h := change(a, next) // staff reason "patient asked"
	ok(t, s.update(ctx, a, next, h, changed(next)))
	sys := domain.HistoryEntry{At: next.UpdatedAt.Add(time.Minute), From: next.Status, To: next.Status,
		Actor: domain.ActorRef{ID: "lis", Role: domain.RoleSystem}, Reason: "LIS: lab order 1", Start: a.Start, End: a.End}
	third := next
	third.Version = 3
	ok(t, s.update(ctx, next, third, sys, changed(third)))

	n, err := s.RemoveHistoryReasons(ctx, a.ID, func(h domain.HistoryEntry) bool { return h.Actor.Role == domain.RoleSystem })
	ok(t, err)
	if n != 1 {
		t.Fatalf("removed %d reasons, want 1", n)
	}
	hs, err := s.History(ctx, a.ID)
	ok(t, err)
	if len(hs) != 3 || hs[1].Reason != "" || hs[2].Reason != "LIS: lab order 1" {
		t.Fatalf("history after removal %+v", hs)
	}

	anon := third
	anon.Patient = domain.Patient{ID: a.Patient.ID, Locale: a.Patient.Locale}
	anon.Notes, anon.Version = "", 4
	at := time.Date(2027, 12, 3, 0, 0, 0, 0, time.UTC)
	ah := domain.HistoryEntry{At: at, From: anon.Status, To: anon.Status, Actor: domain.ActorRef{ID: "pdpa", Role: domain.RoleSystem}, Start: a.Start, End: a.End}
	ok(t, s.anonymize(ctx, third, anon, ah))
	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "anonymized", got, anon)
	if it := rawItem(t, raw, s.Table(), apptPK(a.ID), skMeta); str(it, attrAnonymizedAt) != "2027-12-03T00:00:00.000000000Z" {
		t.Fatalf("anonymizedAt = %q", str(it, attrAnonymizedAt))
	}
	// A stale version is refused and writes nothing.
	wantCode(t, s.anonymize(ctx, third, anon, ah), apperr.Conflict)
	if n := len(outboxItems(t, raw, s.Table())); n != 3 {
		t.Fatalf("%d outbox records, want the 3 changes' only", n)
	}
	if hs, _ := s.History(ctx, a.ID); len(hs) != 4 {
		t.Fatalf("%d history entries, want 4", len(hs))
	}
}
