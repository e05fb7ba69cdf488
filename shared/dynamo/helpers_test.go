package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/ids"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var bangkok = func() *time.Location {
	l, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		panic(err)
	}
	return l
}()

// newStore returns a store over a fresh table, with the raw client.
func newStore(tb testing.TB) (*Store, *dynamodb.Client) {
	tb.Helper()
	c, table := testenv.Table(tb)
	return New(c, table), c
}

// countingClient counts the calls per operation.
type countingClient struct {
	Client
	queries, gets atomic.Int64
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.Client.Query(ctx, in, optFns...)
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.Client.GetItem(ctx, in, optFns...)
}

// at returns a Bangkok wall-clock time on 2026-12-<day>.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, bangkok)
}

// cells returns n 15-minute cells of resource from start.
func cells(resource string, start time.Time, n int) []domain.Cell {
	out := make([]domain.Cell, n)
	for i := range out {
		t := start.Add(time.Duration(i) * 15 * time.Minute)
		out[i] = domain.Cell{ResourceID: resource, Start: t, Date: t.Format(dateLayout)}
	}
	return out
}

// appt builds a booked appointment of resources from start for n cells each.
func appt(id, branch, patient string, start time.Time, n int, resources ...string) domain.Appointment {
	a := domain.Appointment{
		ID:        id,
		Status:    domain.StatusBooked,
		BranchID:  branch,
		ServiceID: "svc_blood",
		Start:     start,
		End:       start.Add(time.Duration(n) * 15 * time.Minute),
		Patient:   domain.Patient{ID: patient, Name: "สมชาย ใจดี", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
		Notes:     "fasting since 22:00",
		Resources: resources,
		Preparation: domain.Preparation{FastingHours: 8, Instructions: map[string]string{
			"th": "งดอาหาร 8 ชั่วโมง", "en": "Fast for 8 hours",
		}},
		Version:   1,
		CreatedAt: time.Date(2026, 11, 20, 9, 30, 15, 123456789, bangkok),
		UpdatedAt: time.Date(2026, 11, 20, 9, 30, 15, 123456789, bangkok),
	}
	for _, r := range resources {
		a.Cells = append(a.Cells, cells(r, start, n)...)
	}
	return a
}

func booking(a domain.Appointment) domain.HistoryEntry {
	return domain.HistoryEntry{
		At: a.CreatedAt, To: domain.StatusBooked, Actor: domain.ActorRef{ID: "user-1", Role: domain.RolePatient},
		Start: a.Start, End: a.End,
	}
}

// moved returns a's next version moved to start (same length and resources).
func moved(a domain.Appointment, start time.Time) domain.Appointment {
	n := len(a.Cells) / max(len(a.Resources), 1)
	b := appt(a.ID, a.BranchID, a.Patient.ID, start, n, a.Resources...)
	b.CreatedAt = a.CreatedAt
	b.UpdatedAt = a.UpdatedAt.Add(time.Hour)
	b.Version = a.Version + 1
	return b
}

// evTime is the time of test events whose appointment has no UpdatedAt.
var evTime = time.Date(2026, 11, 20, 2, 30, 15, 123000000, time.UTC)

// event returns a fresh event of type typ about a (new id each call).
func event(typ string, a domain.Appointment) domain.Event {
	at := a.UpdatedAt
	if at.IsZero() {
		at = evTime
	}
	return domain.AppointmentEvent(ids.New("evt"), typ, at, a)
}

// booked is the event of a booking of a.
func booked(a domain.Appointment) domain.Event { return event(domain.EventAppointmentBooked, a) }

// changed is the event of a change to next: a reschedule when next is still
// booked, else the event of its status.
func changed(next domain.Appointment) domain.Event {
	typ, ok := domain.StatusEventType(next.Status)
	if !ok {
		typ = domain.EventAppointmentRescheduled
	}
	return event(typ, next)
}

func change(prev, next domain.Appointment) domain.HistoryEntry {
	return domain.HistoryEntry{
		At: next.UpdatedAt, From: prev.Status, To: next.Status, Actor: domain.ActorRef{ID: "staff-1", Role: domain.RoleStaff},
		Reason: "patient asked", Start: next.Start, End: next.End,
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func sameJSON(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if g, w := mustJSON(tb, got), mustJSON(tb, want); g != w {
		tb.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func wantCode(tb testing.TB, err error, code apperr.Code) {
	tb.Helper()
	if apperr.CodeOf(err) != code {
		tb.Fatalf("err = %v, want %s", err, code)
	}
}

func ok(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// occupancyOf returns the occupancy as "resource@HH:MM(date)=appointment"
// strings for easy comparison.
func occupancyOf(tb testing.TB, s *Store, branch string, dates ...string) map[string]string {
	tb.Helper()
	occ, err := s.Occupancy(context.Background(), branch, dates)
	ok(tb, err)
	out := map[string]string{}
	for k, v := range occ {
		t := time.Unix(k.Start, 0).In(bangkok)
		out[fmt.Sprintf("%s@%s", k.ResourceID, t.Format("02T15:04"))] = v
	}
	return out
}

// countEntities scans the table and counts items per entity.
func countEntities(tb testing.TB, c *dynamodb.Client, table string) map[string]int {
	tb.Helper()
	out := map[string]int{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		ok(tb, err)
		for _, it := range page.Items {
			e, _ := it[attrEntity].(*types.AttributeValueMemberS)
			if e == nil {
				tb.Fatalf("item without entity: %v", it)
			}
			out[e.Value]++
		}
	}
	return out
}

// update writes next over prev as one step (writeChange), the transaction
// UpdateAppointment makes in each attempt.
func (s *Store) update(ctx context.Context, prev, next domain.Appointment, h domain.HistoryEntry, ev domain.Event) error {
	return s.writeChange(ctx, prev, app.One(next, h, ev))
}

// anonymize writes next over prev as the data minimisation's change: one
// step without an event, marked anonymized.
func (s *Store) anonymize(ctx context.Context, prev, next domain.Appointment, h domain.HistoryEntry) error {
	c := app.One(next, h, domain.Event{})
	c.Anonymized = true
	return s.writeChange(ctx, prev, c)
}
