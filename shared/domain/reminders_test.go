package domain

import (
	"math/rand/v2"
	"testing"
	"time"
)

func wall(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSendAtTable(t *testing.T) {
	bkk := mustLoc(t, "Asia/Bangkok")
	ny := mustLoc(t, "America/New_York")
	p := DefaultReminderPolicy()
	for _, c := range []struct {
		name  string
		loc   *time.Location
		start string
		lead  time.Duration
		want  time.Time
	}{
		{"day before, outside quiet hours", bkk, "2026-12-02 09:00", 24 * time.Hour, wall(bkk, "2026-12-01 09:00")},
		{"2h, outside", bkk, "2026-12-02 11:00", 2 * time.Hour, wall(bkk, "2026-12-02 09:00")},
		{"quiet end is exclusive", bkk, "2026-12-02 09:00", 2 * time.Hour, wall(bkk, "2026-12-02 07:00")},
		{"quiet start is inclusive: evening", bkk, "2026-12-02 23:00", 2 * time.Hour, wall(bkk, "2026-12-02 20:00")},
		{"just before quiet start", bkk, "2026-12-02 22:59", 2 * time.Hour, wall(bkk, "2026-12-02 20:59")},
		{"wait for 07:00 (1h30 before)", bkk, "2026-12-02 08:30", 2 * time.Hour, wall(bkk, "2026-12-02 07:00")},
		{"07:00 exactly 1h before", bkk, "2026-12-02 08:00", 2 * time.Hour, wall(bkk, "2026-12-02 07:00")},
		{"07:00 too late: evening before", bkk, "2026-12-02 07:30", 2 * time.Hour, wall(bkk, "2026-12-01 20:00")},
		{"across midnight: evening of the day before", bkk, "2026-12-02 00:30", 2 * time.Hour, wall(bkk, "2026-12-01 20:00")},
		{"due after midnight, period began the day before", bkk, "2026-12-02 06:00", 2 * time.Hour, wall(bkk, "2026-12-01 20:00")},
		{"24h due in the early morning: 07:00 that day", bkk, "2026-12-02 06:00", 24 * time.Hour, wall(bkk, "2026-12-01 07:00")},
		{"24h due late evening: 07:00 next morning", bkk, "2026-12-02 22:00", 24 * time.Hour, wall(bkk, "2026-12-02 07:00")},
		{"year boundary", bkk, "2027-01-01 07:30", 2 * time.Hour, wall(bkk, "2026-12-31 20:00")},
		// New York, spring forward 2026-03-08 02:00 EST → 03:00 EDT.
		{"NY DST start: due 06:30 EDT → 07:00", ny, "2026-03-08 08:30", 2 * time.Hour, wall(ny, "2026-03-08 07:00")},
		{"NY DST start: due in the night → 20:00 EST", ny, "2026-03-08 03:30", 2 * time.Hour, wall(ny, "2026-03-07 20:00")},
		{"NY DST start: lead is elapsed time", ny, "2026-03-08 10:00", 24 * time.Hour, wall(ny, "2026-03-07 09:00")},
		// Fall back 2026-11-01 02:00 EDT → 01:00 EST.
		{"NY DST end: 07:00 EST is 1h before", ny, "2026-11-01 08:00", 2 * time.Hour, wall(ny, "2026-11-01 07:00")},
		{"NY DST end: 07:00 too late → 20:00 EDT", ny, "2026-11-01 07:30", 2 * time.Hour, wall(ny, "2026-10-31 20:00")},
		{"NY DST end: lead is elapsed time", ny, "2026-11-01 10:00", 24 * time.Hour, wall(ny, "2026-10-31 11:00")},
	} {
		got := p.SendAt(wall(c.loc, c.start), c.lead, c.loc)
		if !got.Equal(c.want) {
			t.Errorf("%s: SendAt(%s, %v) = %s, want %s", c.name, c.start, c.lead, got.In(c.loc), c.want)
		}
	}
}

func TestSendAtWithoutQuietHoursAndSameDayQuiet(t *testing.T) {
	bkk := mustLoc(t, "Asia/Bangkok")
	none := ReminderPolicy{LeadTimes: DefaultLeadTimes()}
	start := wall(bkk, "2026-12-02 07:30")
	if got := none.SendAt(start, 2*time.Hour, bkk); !got.Equal(start.Add(-2 * time.Hour)) {
		t.Fatalf("no quiet hours: %s", got)
	}
	if none.MaxShift() != 0 {
		t.Fatal("no quiet hours must not shift")
	}
	// Quiet hours that do not span midnight.
	p := ReminderPolicy{LeadTimes: DefaultLeadTimes(), QuietStart: "00:00", QuietEnd: "06:00"}
	if got := p.SendAt(wall(bkk, "2026-12-02 09:00"), 4*time.Hour, bkk); !got.Equal(wall(bkk, "2026-12-02 06:00")) {
		t.Fatalf("same-day quiet, wait: %s", got.In(bkk))
	}
	if got := p.SendAt(wall(bkk, "2026-12-02 06:30"), 2*time.Hour, bkk); !got.Equal(wall(bkk, "2026-12-01 23:00")) {
		t.Fatalf("same-day quiet, evening: %s", got.In(bkk))
	}
}

// inQuiet reports whether t's wall clock in loc is in [21:00, 07:00).
func inQuiet(t time.Time, loc *time.Location) bool {
	h := t.In(loc).Hour()
	return h >= 21 || h < 7
}

// TestSendAtProperties checks the rule on random visits over two years in a
// zone with daylight saving and one without.
func TestSendAtProperties(t *testing.T) {
	p := DefaultReminderPolicy()
	rnd := rand.New(rand.NewPCG(1, 2))
	leads := []time.Duration{24 * time.Hour, 2 * time.Hour, 90 * time.Minute, 3 * time.Hour, 48 * time.Hour, 30 * time.Minute}
	for _, name := range []string{"America/New_York", "Asia/Bangkok"} {
		loc := mustLoc(t, name)
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		for i := 0; i < 20000; i++ {
			start := base.Add(time.Duration(rnd.IntN(2*365*24*4)) * 15 * time.Minute)
			lead := leads[rnd.IntN(len(leads))]
			due := start.Add(-lead)
			got := p.SendAt(start, lead, loc)
			fail := func(why string) {
				t.Fatalf("%s: start %s lead %v: SendAt = %s: %s", name, start.In(loc), lead, got.In(loc), why)
			}
			if !got.Before(start) {
				fail("not before the start")
			}
			if inQuiet(got, loc) {
				fail("in quiet hours")
			}
			if d := got.Sub(due); d > p.MaxShift() || -d > p.MaxShift() {
				fail("moved more than MaxShift")
			}
			switch {
			case !inQuiet(due, loc):
				if !got.Equal(due) {
					fail("moved although not in quiet hours")
				}
			case got.After(due):
				// The first 07:00 after due, at least an hour before the start.
				if l := got.In(loc); l.Hour() != 7 || l.Minute() != 0 || got.Sub(due) > 11*time.Hour {
					fail("not the 07:00 ending the quiet period")
				}
				if got.After(start.Add(-QuietEndNotice)) {
					fail("less than an hour before the start")
				}
			default:
				// 20:00 before the quiet period, because its 07:00 was too late.
				if l := got.In(loc); l.Hour() != 20 || l.Minute() != 0 || due.Sub(got) > 13*time.Hour {
					fail("not the evening before the quiet period")
				}
				end := got.Add(11 * time.Hour).In(loc)
				end = time.Date(end.Year(), end.Month(), end.Day(), 7, 0, 0, 0, loc)
				if !end.After(start.Add(-QuietEndNotice)) {
					fail("the 07:00 after the quiet period was early enough")
				}
			}
		}
	}
}

func TestReminderPolicyValidate(t *testing.T) {
	if err := DefaultReminderPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (ReminderPolicy{LeadTimes: []time.Duration{time.Hour}}).Validate(); err != nil {
		t.Fatalf("no quiet hours: %v", err)
	}
	for name, p := range map[string]ReminderPolicy{
		"no leads":         {QuietStart: "21:00", QuietEnd: "07:00"},
		"negative lead":    {LeadTimes: []time.Duration{-time.Hour}},
		"zero lead":        {LeadTimes: []time.Duration{0}},
		"seconds":          {LeadTimes: []time.Duration{90 * time.Second}},
		"lead twice":       {LeadTimes: []time.Duration{time.Hour, time.Hour}},
		"bad start":        {LeadTimes: DefaultLeadTimes(), QuietStart: "9pm", QuietEnd: "07:00"},
		"bad end":          {LeadTimes: DefaultLeadTimes(), QuietStart: "21:00", QuietEnd: "24:00"},
		"only one bound":   {LeadTimes: DefaultLeadTimes(), QuietStart: "21:00"},
		"quiet too long":   {LeadTimes: DefaultLeadTimes(), QuietStart: "19:00", QuietEnd: "08:00"},
		"almost whole day": {LeadTimes: DefaultLeadTimes(), QuietStart: "07:01", QuietEnd: "07:00"},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, p)
		}
	}
	p := DefaultReminderPolicy()
	if p.MinLead() != 2*time.Hour || p.MaxLead() != 24*time.Hour || p.MaxShift() != 13*time.Hour {
		t.Fatalf("min %v max %v shift %v", p.MinLead(), p.MaxLead(), p.MaxShift())
	}
}

func TestReminderIsDue(t *testing.T) {
	bkk := mustLoc(t, "Asia/Bangkok")
	start := wall(bkk, "2026-12-02 10:00")
	send := wall(bkk, "2026-12-02 08:00")
	a := Appointment{ID: "apt_1", Status: StatusBooked, Start: start, End: start.Add(15 * time.Minute), CreatedAt: wall(bkk, "2026-11-20 12:00")}
	from, to := send.Add(-15*time.Minute), send.Add(5*time.Minute)
	if !ReminderIsDue(a, send, from, to) {
		t.Fatal("a booked visit whose reminder is in the window is due")
	}
	for name, c := range map[string]struct {
		mut      func(*Appointment)
		from, to time.Time
	}{
		"cancelled":                  {func(a *Appointment) { a.Status = StatusCancelled }, from, to},
		"checked in":                 {func(a *Appointment) { a.Status = StatusCheckedIn }, from, to},
		"sendAt at the window start": {func(*Appointment) {}, send, send.Add(time.Minute)},
		"sendAt after the window":    {func(*Appointment) {}, from, send.Add(-time.Nanosecond)},
		"visit already started":      {func(*Appointment) {}, from, start},
		"booked after sendAt":        {func(a *Appointment) { a.CreatedAt = send.Add(time.Second) }, from, to},
	} {
		b := a
		c.mut(&b)
		if ReminderIsDue(b, send, c.from, c.to) {
			t.Errorf("%s: due", name)
		}
	}
	// The window is (from, to]: to itself is in, booking at sendAt counts.
	b := a
	b.CreatedAt = send
	if !ReminderIsDue(b, send, from, send) {
		t.Error("sendAt = to, booked at sendAt: not due")
	}
}

func TestDueReminders(t *testing.T) {
	bkk := mustLoc(t, "Asia/Bangkok")
	p := DefaultReminderPolicy()
	start := wall(bkk, "2026-12-02 07:30") // 2h reminder moves to 20:00 the evening before
	a := Appointment{ID: "apt_1", Status: StatusBooked, Start: start, CreatedAt: wall(bkk, "2026-11-20 12:00")}
	got := p.DueReminders(a, bkk, wall(bkk, "2026-12-01 07:00"), wall(bkk, "2026-12-01 20:00"))
	if len(got) != 2 || got[0].Lead != 24*time.Hour || !got[0].SendAt.Equal(wall(bkk, "2026-12-01 07:30")) ||
		got[1].Lead != 2*time.Hour || !got[1].SendAt.Equal(wall(bkk, "2026-12-01 20:00")) || got[1].LeadMinutes() != 120 {
		t.Fatalf("due = %+v", got)
	}
	if got := p.DueReminders(a, bkk, wall(bkk, "2026-12-01 20:00"), wall(bkk, "2026-12-02 07:00")); len(got) != 0 {
		t.Fatalf("nothing is due during the night, got %+v", got)
	}
}

func TestReminderDueEvent(t *testing.T) {
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	r := ReminderDue{Appointment: Appointment{ID: "apt_1"}, LeadMinutes: 120, SendAt: at}
	ev := ReminderDueEvent("evt_1", at, r)
	if ev.Type != EventAppointmentReminderDue || ev.Subject != "apt_1" || ev.Data.(ReminderDue).LeadMinutes != 120 {
		t.Fatalf("event %+v", ev)
	}
}

func TestQuietUntil(t *testing.T) {
	bkk, _ := time.LoadLocation("Asia/Bangkok")
	p := DefaultReminderPolicy() // 21:00–07:00
	for _, tc := range []struct {
		at    time.Time
		until time.Time // zero: not quiet
	}{
		{time.Date(2026, 12, 1, 20, 59, 0, 0, bkk), time.Time{}},
		{time.Date(2026, 12, 1, 21, 0, 0, 0, bkk), time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)},
		{time.Date(2026, 12, 1, 23, 30, 0, 0, bkk), time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)},
		{time.Date(2026, 12, 2, 3, 15, 0, 0, bkk), time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)},
		{time.Date(2026, 12, 2, 6, 59, 0, 0, bkk), time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)},
		{time.Date(2026, 12, 2, 7, 0, 0, 0, bkk), time.Time{}},
		{time.Date(2026, 12, 2, 12, 0, 0, 0, bkk), time.Time{}},
		// The instant is judged by the branch's clock, whatever its own zone.
		{time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)},
	} {
		until, quiet := p.QuietUntil(tc.at, bkk)
		if quiet != !tc.until.IsZero() || !until.Equal(tc.until) {
			t.Errorf("%v: %v %v, want %v", tc.at, until, quiet, tc.until)
		}
	}
	// New York across the spring-forward night: the quiet period still ends
	// at 07:00 by the clock.
	ny, _ := time.LoadLocation("America/New_York")
	until, quiet := p.QuietUntil(time.Date(2026, 3, 7, 23, 0, 0, 0, ny), ny)
	if !quiet || !until.Equal(time.Date(2026, 3, 8, 7, 0, 0, 0, ny)) {
		t.Errorf("DST night: %v %v", until, quiet)
	}
	if _, quiet := (ReminderPolicy{LeadTimes: DefaultLeadTimes()}).QuietUntil(time.Date(2026, 12, 2, 3, 0, 0, 0, bkk), bkk); quiet {
		t.Error("no quiet hours configured, yet quiet")
	}
}
