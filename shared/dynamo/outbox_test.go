package dynamo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// outboxItems scans the table for outbox records, by event id.
func outboxItems(tb testing.TB, c *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	tb.Helper()
	out := map[string]map[string]types.AttributeValue{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("entity = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": avS(entityOutbox)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		ok(tb, err)
		for _, it := range page.Items {
			out[str(it, attrOutboxEventID)] = it
		}
	}
	return out
}

// onlyOutbox returns the one outbox record of the table and its event.
func onlyOutbox(tb testing.TB, c *dynamodb.Client, table string) (map[string]types.AttributeValue, events.CloudEvent) {
	tb.Helper()
	items := outboxItems(tb, c, table)
	if len(items) != 1 {
		tb.Fatalf("%d outbox records, want 1", len(items))
	}
	for _, it := range items {
		ce, err := events.Decode([]byte(str(it, attrOutboxCloudEvent)))
		ok(tb, err)
		return it, ce
	}
	panic("unreachable")
}

// tracedContext returns a context with a remote span and the W3C propagator
// installed globally, as lambdakit.Init does.
func tracedContext(tb testing.TB) (context.Context, string) {
	tb.Helper()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
}

func TestBookingWritesExactlyOneOutboxRecord(t *testing.T) {
	s, raw := newStore(t)
	ctx, tp := tracedContext(t)
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a", "res_b")
	ev := booked(a)
	ev.Data = "ignored: the store records the appointment it commits"
	ok(t, s.CreateAppointment(ctx, a, booking(a), ev))

	item, ce := onlyOutbox(t, raw, s.Table())
	got, err := s.GetAppointment(context.Background(), a.ID)
	ok(t, err)
	if string(ce.Data) != mustJSON(t, events.AppointmentDataOf(got)) {
		t.Fatalf("event data:\n%s\ncommitted appointment:\n%s", ce.Data, mustJSON(t, events.AppointmentDataOf(got)))
	}
	if ce.ID != ev.ID || ce.Type != domain.EventAppointmentBooked || ce.Subject != a.ID || ce.Source != events.Source ||
		!ce.Time.Equal(ev.Time) || ce.TraceParent != tp {
		t.Fatalf("event %+v", ce)
	}
	want := map[string]string{
		attrPK: "OUTBOX#" + ev.ID, attrSK: "#EVENT", attrEntity: "outbox", attrOutboxStatus: OutboxPending,
		attrGSI1PK: "OUTBOX#PENDING", attrGSI1SK: "2026-11-20T02:30:15.123456789Z#" + ev.ID,
		attrOutboxCreatedAt: "2026-11-20T02:30:15.123456789Z", attrOutboxEventType: domain.EventAppointmentBooked,
		attrOutboxSubject: a.ID,
	}
	for k, v := range want {
		if g := str(item, k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if _, has := item[attrTTL]; has {
		t.Error("a pending record must not expire")
	}
	sameJSON(t, "entities", countEntities(t, raw, s.Table()), map[string]int{
		entityAppointment: 1, entityHistory: 1, entityCell: 4, entityOutbox: 1, entityVisits: 1,
	})

	// Without a span there is no traceparent.
	b := appt("apt_2", "br_1", "pat_2", at(2, 9, 0), 1, "res_a")
	evb := booked(b)
	ok(t, s.CreateAppointment(context.Background(), b, booking(b), evb))
	ce2, err := events.Decode([]byte(str(outboxItems(t, raw, s.Table())[evb.ID], attrOutboxCloudEvent)))
	ok(t, err)
	if ce2.TraceParent != "" {
		t.Fatalf("traceparent %q without a span", ce2.TraceParent)
	}
}

func TestFailedChangesWriteNoOutboxRecord(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	before := outboxItems(t, raw, s.Table())

	// Slot taken.
	taken := appt("apt_2", "br_1", "pat_2", at(1, 9, 15), 1, "res_a")
	wantCode(t, s.CreateAppointment(ctx, taken, booking(taken), booked(taken)), apperr.SlotUnavailable)
	// Same appointment id again.
	wantCode(t, s.CreateAppointment(ctx, a, booking(a), booked(a)), apperr.Conflict)
	if n := len(outboxItems(t, raw, s.Table())); n != len(before) {
		t.Fatalf("failed creates left %d outbox records, want %d", n, len(before))
	}
	// Stale version.
	b := moved(a, at(1, 10, 0))
	ok(t, s.update(ctx, a, b, change(a, b), changed(b)))
	before = outboxItems(t, raw, s.Table())
	stale := moved(a, at(1, 11, 0))
	wantCode(t, s.update(ctx, a, stale, change(a, stale), changed(stale)), apperr.Conflict)
	// A reused event id: CONFLICT, nothing written.
	c := moved(b, at(1, 12, 0))
	reused := changed(c)
	for id := range before {
		reused.ID = id
	}
	wantCode(t, s.update(ctx, b, c, change(b, c), reused), apperr.Conflict)
	// An event about another appointment, or without a type: INTERNAL.
	wrong := changed(c)
	wrong.Subject = "apt_other"
	wantCode(t, s.update(ctx, b, c, change(b, c), wrong), apperr.Internal)
	untyped := changed(c)
	untyped.Type = ""
	wantCode(t, s.update(ctx, b, c, change(b, c), untyped), apperr.Internal)

	after := outboxItems(t, raw, s.Table())
	if len(after) != len(before) || len(after) != 2 {
		t.Fatalf("outbox records %d, want %d", len(after), len(before))
	}
	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "appointment", got, b)
}

func TestEveryChangeRecordsItsEvent(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	b := moved(a, at(1, 10, 0))
	ok(t, s.update(ctx, a, b, change(a, b), changed(b)))
	steps := []domain.Appointment{a, b}
	for _, to := range []domain.Status{domain.StatusCheckedIn, domain.StatusCompleted} {
		prev := steps[len(steps)-1]
		next := prev
		next.Status, next.Version, next.UpdatedAt = to, prev.Version+1, prev.UpdatedAt.Add(time.Minute)
		ok(t, s.update(ctx, prev, next, change(prev, next), changed(next)))
		steps = append(steps, next)
	}
	c := appt("apt_2", "br_1", "pat_2", at(2, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, c, booking(c), booked(c)))
	steps = append(steps, c)
	for _, to := range []domain.Status{domain.StatusCancelled} {
		next := c
		next.Status, next.Version, next.Cells = to, 2, nil
		ok(t, s.update(ctx, c, next, change(c, next), changed(next)))
		steps = append(steps, next)
	}
	d := appt("apt_3", "br_1", "pat_3", at(3, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, d, booking(d), booked(d)))
	nd := d
	nd.Status, nd.Version, nd.Cells = domain.StatusNoShow, 2, nil
	ok(t, s.update(ctx, d, nd, change(d, nd), changed(nd)))
	steps = append(steps, d, nd)

	types := map[string]int{}
	byData := map[string]bool{}
	for _, it := range outboxItems(t, raw, s.Table()) {
		ce, err := events.Decode([]byte(str(it, attrOutboxCloudEvent)))
		ok(t, err)
		types[ce.Type]++
		byData[string(ce.Data)] = true
	}
	// The lifecycle's event types; the integrations' types are recorded by
	// ApplyIntegrationChange (lab_test.go).
	lifecycle := []string{
		domain.EventAppointmentBooked, domain.EventAppointmentRescheduled, domain.EventAppointmentCancelled,
		domain.EventAppointmentCheckedIn, domain.EventAppointmentCompleted, domain.EventAppointmentNoShow,
	}
	for _, typ := range lifecycle {
		want := 1
		if typ == domain.EventAppointmentBooked {
			want = 3
		}
		if types[typ] != want {
			t.Errorf("%s: %d events, want %d (all: %v)", typ, types[typ], want, types)
		}
	}
	for _, st := range steps {
		if !byData[mustJSON(t, events.AppointmentDataOf(st))] {
			t.Errorf("no event carries %s v%d as committed", st.ID, st.Version)
		}
	}
}

func TestMarkPublishedAndPendingOutbox(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	var evs []domain.Event
	for i := range 5 {
		a := appt("apt_"+string(rune('a'+i)), "br_1", "pat_1", at(1, 8+i, 0), 1, "res_a")
		a.UpdatedAt = evTime.Add(time.Duration(i) * time.Minute)
		ev := booked(a)
		ok(t, s.CreateAppointment(ctx, a, booking(a), ev))
		evs = append(evs, ev)
	}
	ids := func(ces []events.CloudEvent) string {
		var out []string
		for _, ce := range ces {
			out = append(out, ce.ID)
		}
		return strings.Join(out, ",")
	}
	idsOf := func(evs ...domain.Event) string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return strings.Join(out, ",")
	}
	// Older than the 4th event's time: the first three, oldest first.
	got, err := s.PendingOutbox(ctx, evs[3].Time, 10)
	ok(t, err)
	if ids(got) != idsOf(evs[:3]...) {
		t.Fatalf("pending = %s, want %s", ids(got), idsOf(evs[:3]...))
	}
	got, err = s.PendingOutbox(ctx, evs[4].Time.Add(time.Second), 2)
	ok(t, err)
	if ids(got) != idsOf(evs[:2]...) {
		t.Fatalf("limited = %s", ids(got))
	}

	at1 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	ok(t, s.MarkPublished(ctx, evs[1].ID, at1))
	ok(t, s.MarkPublished(ctx, evs[1].ID, at1.Add(time.Hour))) // idempotent, keeps the first time
	it := outboxItems(t, raw, s.Table())[evs[1].ID]
	if str(it, attrOutboxStatus) != OutboxPublished || str(it, attrOutboxPublishedAt) != "2026-11-20T03:00:00.000000000Z" ||
		num(it, attrTTL) != at1.Add(OutboxRetention).Unix() || it[attrGSI1PK] != nil || it[attrGSI1SK] != nil {
		t.Fatalf("published record %v", it)
	}
	got, err = s.PendingOutbox(ctx, evs[4].Time.Add(time.Second), 0)
	ok(t, err)
	if want := idsOf(evs[0], evs[2], evs[3], evs[4]); ids(got) != want {
		t.Fatalf("after marking = %s, want %s", ids(got), want)
	}
	wantCode(t, s.MarkPublished(ctx, "evt_missing", at1), apperr.NotFound)
	if n := len(outboxItems(t, raw, s.Table())); n != 5 {
		t.Fatalf("MarkPublished of a missing record created one (%d records)", n)
	}

	// A malformed record is reported; the others still come back.
	_, err = raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table()), Key: key(outboxPK(evs[2].ID), skEvent),
		UpdateExpression:          aws.String("SET " + attrOutboxCloudEvent + " = :bad"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":bad": avS(`{"specversion":"0.3"}`)},
	})
	ok(t, err)
	got, err = s.PendingOutbox(ctx, evs[4].Time.Add(time.Second), 0)
	var bad *MalformedOutboxError
	if !errors.As(err, &bad) || len(bad.EventIDs) != 1 || bad.EventIDs[0] != evs[2].ID || !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if want := idsOf(evs[0], evs[3], evs[4]); ids(got) != want {
		t.Fatalf("with a malformed record = %s, want %s", ids(got), want)
	}
}

func TestOutboxEventFromStreamImage(t *testing.T) {
	ctx, _ := tracedContext(t)
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 1, "res_a")
	ev := booked(a)
	item, err := outboxItem(ctx, ev, a)
	ok(t, err)
	image := map[string]lambdaevents.DynamoDBAttributeValue{}
	for k, v := range item {
		if s, isS := v.(*types.AttributeValueMemberS); isS {
			image[k] = lambdaevents.NewStringAttribute(s.Value)
		}
	}
	ce, isOutbox, err := OutboxEventFromStreamImage(image)
	ok(t, err)
	if !isOutbox || ce.ID != ev.ID || string(ce.Data) != mustJSON(t, events.AppointmentDataOf(a)) {
		t.Fatalf("parsed %v %+v", isOutbox, ce)
	}

	apptImage := map[string]lambdaevents.DynamoDBAttributeValue{
		attrPK: lambdaevents.NewStringAttribute("APPT#apt_1"), attrEntity: lambdaevents.NewStringAttribute(entityAppointment),
	}
	if _, isOutbox, err := OutboxEventFromStreamImage(apptImage); isOutbox || err != nil {
		t.Fatalf("appointment image: %v %v", isOutbox, err)
	}
	if _, isOutbox, err := OutboxEventFromStreamImage(map[string]lambdaevents.DynamoDBAttributeValue{
		attrEntity: lambdaevents.NewNumberAttribute("1"),
	}); isOutbox || err != nil {
		t.Fatalf("odd image: %v %v", isOutbox, err)
	}
	image[attrOutboxCloudEvent] = lambdaevents.NewStringAttribute(`{"specversion":"1.0"}`)
	if _, isOutbox, err := OutboxEventFromStreamImage(image); !isOutbox || !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("malformed: %v %v", isOutbox, err)
	}
	delete(image, attrOutboxCloudEvent)
	if _, isOutbox, err := OutboxEventFromStreamImage(image); !isOutbox || err == nil {
		t.Fatalf("without event: %v %v", isOutbox, err)
	}
}
