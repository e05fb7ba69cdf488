package notifications_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)

// deadLetters records what a consumer dead-letters.
type deadLetters struct {
	mu  sync.Mutex
	got []consumer.DeadLetter
}

func (d *deadLetters) SendDeadLetter(_ context.Context, dl consumer.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, dl)
	return nil
}

// bookedVisit stores a booked appointment of branch br_1 and returns it.
func bookedVisit(t *testing.T, store *dynamo.Store, id string) domain.Appointment {
	t.Helper()
	bkk := time.FixedZone("ICT", 7*3600)
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, bkk)
	a := domain.Appointment{
		ID: id, Status: domain.StatusBooked, BranchID: "br_1", ServiceID: "svc_1",
		Start: start, End: start.Add(15 * time.Minute), Patient: domain.Patient{ID: "p-1", Name: "Somchai"},
		Resources: []string{"res_" + id}, Version: 1, CreatedAt: now, UpdatedAt: now,
		Cells: []domain.Cell{{ResourceID: "res_" + id, Start: start, Date: "2026-12-01"}},
	}
	h := domain.HistoryEntry{At: now, To: domain.StatusBooked, Actor: domain.ActorRef{ID: "u", Role: domain.RoleStaff}, Start: a.Start, End: a.End}
	if err := store.CreateAppointment(context.Background(), a, h, domain.AppointmentEvent("evt_"+id, domain.EventAppointmentBooked, now, a)); err != nil {
		t.Fatal(err)
	}
	return a
}
