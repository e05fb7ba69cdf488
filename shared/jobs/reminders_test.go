package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/jobs"
)

// reminderKey identifies one reminder: appointment, lead and start.
func reminderKeys(t *testing.T, ces []events.CloudEvent) []string {
	t.Helper()
	var out []string
	for _, ce := range ces {
		var r events.ReminderDueData
		must(t, ce.DecodeData(&r))
		if ce.Subject != r.Appointment.ID {
			t.Fatalf("event %s about %s carries %s", ce.ID, ce.Subject, r.Appointment.ID)
		}
		out = append(out, fmt.Sprintf("%s %dm %s sendAt %s", r.Appointment.ID, r.LeadMinutes,
			r.Appointment.Start.In(bangkok).Format("01-02 15:04"), r.SendAt.In(bangkok).Format("01-02 15:04")))
	}
	sort.Strings(out)
	return out
}

func key(a domain.Appointment, lead int, start, sendAt string) string {
	return fmt.Sprintf("%s %dm %s sendAt %s", a.ID, lead, start, sendAt)
}

func TestRemindersSkippedRunsCatchUpExactlyOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.book("p-a", "2026-12-02 10:00")
	job := jobs.NewReminders(f.store, domain.DefaultReminderPolicy())

	rep, err := job.Run(ctx, bkk("2026-12-01 09:00")) // first run: nothing due yet
	must(t, err)
	if rep.Recorded != 0 || !rep.To.Equal(bkk("2026-12-01 08:59")) || !rep.From.Equal(bkk("2026-12-01 08:44")) || rep.Branches != 1 {
		t.Fatalf("first run %+v", rep)
	}
	// The runs of 09:15 … 11:45 were missed; 12:00 sends the 10:00 reminder.
	rep, err = job.Run(ctx, bkk("2026-12-01 12:00"))
	must(t, err)
	if rep.Recorded != 1 || rep.Appointments == 0 {
		t.Fatalf("catch-up run %+v", rep)
	}
	for _, now := range []string{"2026-12-01 12:00", "2026-12-01 12:15", "2026-12-02 07:00"} {
		rep, err = job.Run(ctx, bkk(now))
		must(t, err)
		if rep.Recorded != 0 {
			t.Fatalf("run at %s recorded %d", now, rep.Recorded)
		}
	}
	rep, err = job.Run(ctx, bkk("2026-12-02 09:30"))
	must(t, err)
	if rep.Recorded != 1 {
		t.Fatalf("2h run %+v", rep)
	}
	got := reminderKeys(t, f.events(domain.EventAppointmentReminderDue))
	want := []string{key(a, 120, "12-02 10:00", "12-02 08:00"), key(a, 1440, "12-02 10:00", "12-01 10:00")}
	if !slices.Equal(got, want) {
		t.Fatalf("reminders\n got %q\nwant %q", got, want)
	}
	if w, _ := f.watermark(jobs.JobReminders); !w.Equal(bkk("2026-12-02 09:29")) {
		t.Fatalf("watermark %v", w)
	}
	// Past the visit's start nothing more is due, even after a long gap.
	rep, err = job.Run(ctx, bkk("2026-12-06 09:30"))
	must(t, err)
	if !rep.Clamped || rep.Recorded != 0 || !rep.From.Equal(bkk("2026-12-04 09:29")) {
		t.Fatalf("run after a 4-day gap %+v", rep)
	}
}

// TestRemindersLifecycle runs the job every 15 minutes for a day and a half
// over visits that are booked early, cancelled, rescheduled before and after
// their reminder, booked after their reminder's time, or early in the
// morning (quiet hours).
func TestRemindersLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	early := f.book("p-early", "2026-12-03 07:30")      // 2h reminder falls at 05:30: sent 20:00 the evening before
	cancelled := f.book("p-cancel", "2026-12-03 09:00") // cancelled before any reminder
	moved := f.book("p-moved", "2026-12-03 10:00")      // moved to 11:00 before any reminder
	late := f.book("p-late", "2026-12-03 14:00")        // moved to 16:00 after its 24h reminder
	_, err := f.svc.Cancel(ctx, admin, cancelled.ID, "")
	must(t, err)
	moved, err = f.svc.Reschedule(ctx, admin, moved.ID, bkk("2026-12-03 11:00"))
	must(t, err)

	job := jobs.NewReminders(f.store, domain.DefaultReminderPolicy())
	var latecomer domain.Appointment
	for now := bkk("2026-12-02 06:00"); !now.After(bkk("2026-12-03 12:00")); now = now.Add(15 * time.Minute) {
		f.clock.Set(now)
		switch now {
		case bkk("2026-12-02 08:15"):
			// Booked at 08:05, after its 24h reminder's time (08:00) and
			// before the run whose window holds that time.
			f.clock.Set(bkk("2026-12-02 08:05"))
			latecomer = f.book("p-latecomer", "2026-12-03 08:00")
			f.clock.Set(now)
		case bkk("2026-12-02 15:00"):
			late, err = f.svc.Reschedule(ctx, admin, late.ID, bkk("2026-12-03 16:00"))
			must(t, err)
		}
		_, err := job.Run(ctx, now)
		must(t, err)
	}

	evs := f.events(domain.EventAppointmentReminderDue)
	for _, ce := range evs {
		if h := ce.Time.In(bangkok).Hour(); h >= 21 || h < 7 {
			t.Errorf("reminder %s recorded at %s, in quiet hours", ce.ID, ce.Time.In(bangkok))
		}
	}
	got := reminderKeys(t, evs)
	want := []string{
		key(early, 120, "12-03 07:30", "12-02 20:00"),
		key(early, 1440, "12-03 07:30", "12-02 07:30"),
		key(moved, 120, "12-03 11:00", "12-03 09:00"),
		key(moved, 1440, "12-03 11:00", "12-02 11:00"),
		key(late, 1440, "12-03 14:00", "12-02 14:00"),
		key(late, 1440, "12-03 16:00", "12-02 16:00"),
		key(latecomer, 120, "12-03 08:00", "12-03 07:00"),
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("reminders\n got %q\nwant %q", got, want)
	}
}

// gatedStore lets a test hold every run after it read the watermark, so
// that concurrent runs really cover the same window, and fail chosen
// reminders.
type gatedStore struct {
	jobs.ReminderStore
	gate      *sync.WaitGroup // nil: no gate
	mu        sync.Mutex
	failFor   string // appointment id whose reminders fail
	noAdvance bool
}

func (s *gatedStore) GetWatermark(ctx context.Context, job string) (time.Time, bool, error) {
	w, found, err := s.ReminderStore.GetWatermark(ctx, job)
	if s.gate != nil {
		s.gate.Done()
		s.gate.Wait()
	}
	return w, found, err
}

func (s *gatedStore) RecordReminder(ctx context.Context, id string, due func(domain.Appointment) (domain.ReminderDue, domain.Event, bool)) (bool, error) {
	s.mu.Lock()
	fail := s.failFor == id
	s.mu.Unlock()
	if fail {
		return false, errors.New("injected: DynamoDB unavailable")
	}
	return s.ReminderStore.RecordReminder(ctx, id, due)
}

func (s *gatedStore) AdvanceWatermark(ctx context.Context, job string, to time.Time) error {
	if s.noAdvance {
		return errors.New("injected: cannot advance")
	}
	return s.ReminderStore.AdvanceWatermark(ctx, job, to)
}

func TestRemindersConcurrentRunsRecordEachOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var want []string
	for i := range 6 {
		start := fmt.Sprintf("2026-12-02 %02d:%02d", 10+i/3, 15*(i%3))
		a := f.book(fmt.Sprintf("p-%d", i), start)
		want = append(want, key(a, 1440, start[5:], bkk(start).Add(-24*time.Hour).Format("01-02 15:04")))
	}
	sort.Strings(want)
	const runs = 4
	gate := &sync.WaitGroup{}
	gate.Add(runs)
	store := &gatedStore{ReminderStore: f.store, gate: gate}
	// Every run starts from the same (absent) watermark: window (09:44, 11:59].
	must(t, store.ReminderStore.AdvanceWatermark(ctx, jobs.JobReminders, bkk("2026-12-01 09:44")))
	var wg sync.WaitGroup
	reps := make([]jobs.ReminderReport, runs)
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = jobs.NewReminders(store, domain.DefaultReminderPolicy()).Run(ctx, bkk("2026-12-01 12:00"))
		}()
	}
	wg.Wait()
	recorded, already := 0, 0
	for i := range runs {
		must(t, errs[i])
		if !reps[i].From.Equal(bkk("2026-12-01 09:44")) {
			t.Fatalf("run %d did not cover the shared window: %+v", i, reps[i])
		}
		recorded += reps[i].Recorded
		already += reps[i].AlreadyRecorded
	}
	if got := reminderKeys(t, f.events(domain.EventAppointmentReminderDue)); !slices.Equal(got, want) {
		t.Fatalf("reminders\n got %q\nwant %q", got, want)
	}
	if recorded != len(want) || already != (runs-1)*len(want) {
		t.Fatalf("recorded %d, already recorded %d; want %d and %d", recorded, already, len(want), (runs-1)*len(want))
	}
}

func TestRemindersFailedRunKeepsTheWatermarkAndIsRedone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ok1 := f.book("p-1", "2026-12-02 10:00")
	bad := f.book("p-2", "2026-12-02 10:15")
	ok3 := f.book("p-3", "2026-12-02 10:30")
	store := &gatedStore{ReminderStore: f.store, failFor: bad.ID}
	job := jobs.NewReminders(store, domain.DefaultReminderPolicy())
	must(t, f.store.AdvanceWatermark(ctx, jobs.JobReminders, bkk("2026-12-01 09:44")))

	rep, err := job.Run(ctx, bkk("2026-12-01 11:00"))
	if err == nil || rep.Failed != 1 || rep.Recorded != 2 {
		t.Fatalf("run with a failure: %+v, %v", rep, err)
	}
	if w, _ := f.watermark(jobs.JobReminders); !w.Equal(bkk("2026-12-01 09:44")) {
		t.Fatalf("watermark moved to %v past unprocessed work", w)
	}
	// The next run redoes the window: the failed one once, the others not again.
	store.failFor = ""
	rep, err = job.Run(ctx, bkk("2026-12-01 11:15"))
	must(t, err)
	if rep.Recorded != 1 || rep.AlreadyRecorded != 2 {
		t.Fatalf("redo %+v", rep)
	}
	want := []string{
		key(ok1, 1440, "12-02 10:00", "12-01 10:00"), key(bad, 1440, "12-02 10:15", "12-01 10:15"), key(ok3, 1440, "12-02 10:30", "12-01 10:30"),
	}
	if got := reminderKeys(t, f.events(domain.EventAppointmentReminderDue)); !slices.Equal(got, want) {
		t.Fatalf("reminders\n got %q\nwant %q", got, want)
	}
	// A run whose watermark cannot advance reports it.
	store.noAdvance = true
	if _, err := job.Run(ctx, bkk("2026-12-01 11:30")); err == nil {
		t.Fatal("watermark failure not reported")
	}
}

// TestReminderOfAChangedVisitIsReread: a visit cancelled after it was listed
// (the index still shows it booked) gets no reminder.
func TestReminderOfAChangedVisitIsReread(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.book("p-1", "2026-12-02 10:00")
	must(t, f.store.AdvanceWatermark(ctx, jobs.JobReminders, bkk("2026-12-01 09:44")))
	store := &cancelOnList{ReminderStore: f.store, cancel: func() {
		_, err := f.svc.Cancel(ctx, admin, a.ID, "")
		must(t, err)
	}}
	rep, err := jobs.NewReminders(store, domain.DefaultReminderPolicy()).Run(ctx, bkk("2026-12-01 10:15"))
	must(t, err)
	if rep.Recorded != 0 || rep.Stale != 1 || len(f.events(domain.EventAppointmentReminderDue)) != 0 {
		t.Fatalf("report %+v", rep)
	}
}

// cancelOnList runs cancel once, right after the appointments were listed.
type cancelOnList struct {
	jobs.ReminderStore
	cancel func()
	once   sync.Once
}

func (s *cancelOnList) AppointmentsStarting(ctx context.Context, branchID, date string, from, to time.Time) ([]domain.Appointment, error) {
	as, err := s.ReminderStore.AppointmentsStarting(ctx, branchID, date, from, to)
	if len(as) > 0 {
		s.once.Do(s.cancel)
	}
	return as, err
}
