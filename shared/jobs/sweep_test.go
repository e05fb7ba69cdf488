package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/jobs"
)

// noShows returns the history entries of id that recorded a no-show.
func (f *fixture) noShows(id string) []domain.HistoryEntry {
	f.t.Helper()
	hs, err := f.store.History(context.Background(), id)
	must(f.t, err)
	var out []domain.HistoryEntry
	for _, h := range hs {
		if h.To == domain.StatusNoShow {
			out = append(out, h)
		}
	}
	return out
}

func TestStatusSweepMarksNoShowsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.clock.Set(bkk("2026-11-20 10:00"))
	longAgo := f.book("p-old", "2026-11-21 08:00") // ends beyond the 7-day lookback of the first run
	f.clock.Set(bookedAt)
	missed := f.book("p-missed", "2026-12-01 08:00")
	arrived := f.book("p-arrived", "2026-12-01 08:00")
	cancelled := f.book("p-cancelled", "2026-12-01 08:00")
	later := f.book("p-later", "2026-12-01 09:00")
	f.clock.Set(bkk("2026-12-01 08:05"))
	_, err := f.svc.Transition(ctx, f.staff, arrived.ID, domain.StatusCheckedIn, "")
	must(t, err)
	_, err = f.svc.Cancel(ctx, admin, cancelled.ID, "")
	must(t, err)

	sweep := jobs.NewStatusSweep(f.store, f.svc, 0, 0)
	run := func(now string) jobs.SweepReport {
		t.Helper()
		f.clock.Set(bkk(now))
		rep, err := sweep.Run(ctx, bkk(now))
		must(t, err)
		return rep
	}
	// 08:15 end + 30 min grace: not yet at 08:44.
	if rep := run("2026-12-01 08:44"); rep.MarkedNoShow != 0 || rep.Clamped {
		t.Fatalf("08:44 %+v", rep)
	}
	if rep := run("2026-12-01 08:45"); rep.MarkedNoShow != 1 || !rep.To.Equal(bkk("2026-12-01 08:15")) {
		t.Fatalf("08:45 %+v", rep)
	}
	// Again at the same time and later: nothing new for it.
	if rep := run("2026-12-01 08:45"); rep.MarkedNoShow != 0 {
		t.Fatalf("same run again %+v", rep)
	}
	if rep := run("2026-12-01 09:45"); rep.MarkedNoShow != 1 {
		t.Fatalf("09:45 (the 09:00 visit) %+v", rep)
	}

	for _, c := range []struct {
		a    domain.Appointment
		want domain.Status
	}{
		{missed, domain.StatusNoShow}, {later, domain.StatusNoShow}, {arrived, domain.StatusCheckedIn},
		{cancelled, domain.StatusCancelled}, {longAgo, domain.StatusBooked},
	} {
		if got := f.get(c.a.ID).Status; got != c.want {
			t.Errorf("%s: status %s, want %s", c.a.Patient.ID, got, c.want)
		}
	}
	hs := f.noShows(missed.ID)
	if len(hs) != 1 || hs[0].Actor != jobs.SweepActor || hs[0].Reason != jobs.NoShowReason || hs[0].From != domain.StatusBooked {
		t.Fatalf("no-show history %+v", hs)
	}
	got := f.get(missed.ID)
	if len(got.Cells) != 0 || got.Version != missed.Version+1 {
		t.Fatalf("no-show keeps cells or skipped a version: %+v", got)
	}
	evs := f.events(domain.EventAppointmentNoShow)
	if len(evs) != 2 {
		t.Fatalf("%d no-show events, want 2", len(evs))
	}
	var data events.AppointmentData
	must(t, evs[0].DecodeData(&data))
	if data.ID != missed.ID || data.Status != string(domain.StatusNoShow) {
		t.Fatalf("event data %+v", data)
	}
}

func TestStatusSweepConcurrentRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for _, p := range []string{"p-1", "p-2", "p-3"} {
		ids = append(ids, f.book(p, "2026-12-01 08:00").ID)
	}
	now := bkk("2026-12-01 09:00")
	f.clock.Set(now)
	var wg sync.WaitGroup
	marked := make([]int, 4)
	for i := range marked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := jobs.NewStatusSweep(f.store, f.svc, 0, 0).Run(ctx, now)
			if err != nil {
				t.Error(err)
			}
			marked[i] = rep.MarkedNoShow
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range marked {
		total += n
	}
	if total != 3 || len(f.events(domain.EventAppointmentNoShow)) != 3 {
		t.Fatalf("marked %v, %d events; want 3 and 3", marked, len(f.events(domain.EventAppointmentNoShow)))
	}
	for _, id := range ids {
		if n := len(f.noShows(id)); n != 1 {
			t.Fatalf("%s has %d no-show entries", id, n)
		}
	}
}

// interferingChanger makes a concurrent change of each visit between the
// sweep's first read of it and its write (inside the first call of the
// sweep's rule), so that the write loses and the visit is read and decided
// again.
type interferingChanger struct {
	jobs.StatusChanger
	interfere func(id string)
	done      map[string]bool
	calls     map[string]int
}

func (c *interferingChanger) SystemTransition(ctx context.Context, actor domain.ActorRef, id string, to domain.Status, reason string, still func(domain.Appointment) bool) (domain.Appointment, error) {
	return c.StatusChanger.SystemTransition(ctx, actor, id, to, reason, func(a domain.Appointment) bool {
		c.calls[id]++
		if !c.done[id] {
			c.done[id] = true
			c.interfere(id)
		}
		return still(a)
	})
}

func TestStatusSweepRereadsAfterAConcurrentChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	arrivedLate := f.book("p-arrived", "2026-12-01 08:00")
	paid := f.book("p-paid", "2026-12-01 08:00")
	now := bkk("2026-12-01 09:00")
	f.clock.Set(now)
	changer := &interferingChanger{StatusChanger: f.svc, done: map[string]bool{}, calls: map[string]int{}, interfere: func(id string) {
		switch id {
		case arrivedLate.ID: // checked in just now: left alone
			_, err := f.svc.Transition(ctx, f.staff, id, domain.StatusCheckedIn, "")
			must(t, err)
		case paid.ID: // another change that leaves it booked: marked anyway
			_, err := f.store.UpdateAppointment(ctx, id, func(a domain.Appointment) (app.Change, error) {
				next := a
				next.Version, next.UpdatedAt = a.Version+1, now
				h := domain.HistoryEntry{At: now, From: a.Status, To: a.Status, Actor: domain.ActorRef{ID: "pos", Role: domain.RoleSystem}, Start: a.Start, End: a.End}
				return app.One(next, h, domain.AppointmentEvent("evt_pos_"+id, domain.EventAppointmentBillingChanged, now, next)), nil
			})
			must(t, err)
		}
	}}
	rep, err := jobs.NewStatusSweep(f.store, changer, 0, 0).Run(ctx, now)
	must(t, err)
	if rep.MarkedNoShow != 1 || rep.Skipped != 1 {
		t.Fatalf("report %+v", rep)
	}
	if f.get(arrivedLate.ID).Status != domain.StatusCheckedIn || f.get(paid.ID).Status != domain.StatusNoShow {
		t.Fatalf("statuses %s, %s", f.get(arrivedLate.ID).Status, f.get(paid.ID).Status)
	}
	// Each visit's write lost once and it was decided again on a new read.
	if changer.calls[arrivedLate.ID] != 2 || changer.calls[paid.ID] != 2 {
		t.Fatalf("decisions %v, want 2 per visit", changer.calls)
	}
}

func TestStatusSweepWatermarkAndGrace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.book("p-1", "2026-12-01 08:00")
	sweep := jobs.NewStatusSweep(f.store, f.svc, 2*time.Hour, 0)
	f.clock.Set(bkk("2026-12-01 10:14"))
	rep, err := sweep.Run(ctx, bkk("2026-12-01 10:14"))
	must(t, err)
	if rep.MarkedNoShow != 0 || f.get(a.ID).Status != domain.StatusBooked {
		t.Fatalf("marked within the 2 h grace: %+v", rep)
	}
	if w, found := f.watermark(jobs.JobStatusSweep); !found || !w.Equal(bkk("2026-12-01 08:14")) {
		t.Fatalf("watermark %v %v", w, found)
	}
	f.clock.Set(bkk("2026-12-01 10:15"))
	rep, err = sweep.Run(ctx, bkk("2026-12-01 10:15"))
	must(t, err)
	if rep.MarkedNoShow != 1 || !rep.From.Equal(bkk("2026-12-01 08:14")) {
		t.Fatalf("after the grace %+v", rep)
	}
}
