package jobs_test

import (
	"context"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/jobs"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The DynamoDB store and the booking service implement the jobs' ports.
var (
	_ jobs.ReminderStore = (*dynamo.Store)(nil)
	_ jobs.SweepStore    = (*dynamo.Store)(nil)
	_ jobs.CleanupStore  = (*dynamo.Store)(nil)
	_ jobs.StatusChanger = (*app.Service)(nil)
)

var (
	bangkok = func() *time.Location {
		l, err := time.LoadLocation("Asia/Bangkok")
		if err != nil {
			panic(err)
		}
		return l
	}()
	admin = domain.Actor{ID: "u-admin", Role: domain.RoleAdmin}
	// bookedAt is when the fixture's visits are booked, a week ahead.
	bookedAt = bkk("2026-11-25 10:00")
)

// bkk returns a Bangkok wall time "2006-01-02 15:04".
func bkk(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, bangkok)
	if err != nil {
		panic(err)
	}
	return t
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// fixture is a Bangkok branch open every day 06:00–22:00 with three
// collection stations and a 15-minute blood draw, on a fresh table.
type fixture struct {
	t      *testing.T
	raw    *dynamodb.Client
	store  *dynamo.Store
	svc    *app.Service
	clock  *clock
	branch domain.Branch
	draw   domain.Service
	staff  domain.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	raw, table := testenv.Table(t)
	f := &fixture{t: t, raw: raw, store: dynamo.New(raw, table), clock: &clock{now: bookedAt}}
	f.svc = app.New(f.store, f.clock.Now)
	ctx := context.Background()
	var err error
	f.branch, err = f.svc.CreateBranch(ctx, admin, domain.Branch{Name: "Silom", TimeZone: "Asia/Bangkok"})
	must(t, err)
	f.staff = domain.Actor{ID: "u-staff", Role: domain.RoleStaff, BranchIDs: []string{f.branch.ID}}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "06:00", Close: "22:00"})
	}
	_, err = f.svc.PutHours(ctx, admin, f.branch.ID, domain.Hours{Weekly: weekly})
	must(t, err)
	for range 3 {
		_, err := f.svc.CreateResource(ctx, admin, f.branch.ID, domain.Resource{Name: "Station", Type: domain.ResourceCollectionStation})
		must(t, err)
	}
	f.draw, err = f.svc.CreateService(ctx, admin, f.branch.ID, domain.Service{
		Name: "Blood draw", DurationMinutes: 15,
		Requires:         []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}},
		MinNoticeMinutes: 60, MaxAdvanceDays: 60, CancelCutoffMinutes: 120,
	})
	must(t, err)
	return f
}

// book books the draw at a Bangkok wall time for patient p, at the clock's
// time.
func (f *fixture) book(p, start string) domain.Appointment {
	f.t.Helper()
	a, err := f.svc.Book(context.Background(), admin, app.BookInput{
		BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk(start),
		Patient: domain.Patient{ID: p, Name: "Somchai Jaidee", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
		Notes:   "allergic to latex; call his wife Malee on +66898765432",
	})
	must(f.t, err)
	return a
}

func (f *fixture) get(id string) domain.Appointment {
	f.t.Helper()
	a, err := f.store.GetAppointment(context.Background(), id)
	must(f.t, err)
	return a
}

// events returns the outbox events of a type, in time order.
func (f *fixture) events(typ string) []events.CloudEvent {
	f.t.Helper()
	all, err := f.store.PendingOutbox(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	must(f.t, err)
	var out []events.CloudEvent
	for _, ce := range all {
		if ce.Type == typ {
			out = append(out, ce)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// item reads one raw item (nil if absent).
func (f *fixture) item(pk, sk string) map[string]types.AttributeValue {
	f.t.Helper()
	out, err := f.raw.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.store.Table()), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}},
	})
	must(f.t, err)
	return out.Item
}

func (f *fixture) watermark(job string) (time.Time, bool) {
	f.t.Helper()
	w, found, err := f.store.GetWatermark(context.Background(), job)
	must(f.t, err)
	return w, found
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
