package domain

import "time"

// Defaults of ReminderPolicy.
const (
	// DefaultQuietStart begins the quiet hours (branch local time).
	DefaultQuietStart = "21:00"
	// DefaultQuietEnd ends the quiet hours (branch local time, exclusive).
	DefaultQuietEnd = "07:00"
	// QuietEndNotice is how long before the visit the end of the quiet hours
	// must still be for a reminder to wait for it: a reminder that would
	// arrive less than this before the start is of little use (the patient is
	// already on the way), so it goes out the evening before instead.
	QuietEndNotice = time.Hour
	// EveningBeforeQuiet is how long before QuietStart the evening reminder
	// goes out (20:00 for quiet hours from 21:00): late enough to be about
	// tomorrow, early enough that it is not itself a late-night message.
	EveningBeforeQuiet = time.Hour
	// MaxQuietHours bounds the quiet period, so that the evening time
	// (QuietStart − EveningBeforeQuiet) is never itself inside it and a
	// visit's reminders stay within a day of their nominal time.
	MaxQuietHours = 12 * time.Hour
	// clockChangeSlack bounds how far a daylight-saving change moves a wall
	// time in real time (one hour everywhere today; two covers historical
	// double summer time).
	clockChangeSlack = 2 * time.Hour
)

// DefaultLeadTimes are the reminders of a visit: a day and two hours before.
func DefaultLeadTimes() []time.Duration { return []time.Duration{24 * time.Hour, 2 * time.Hour} }

// ReminderPolicy decides when a visit's reminders are sent.
//
// The rule (the README repeats it):
//
//  1. A reminder with lead time L of a visit starting at S is due at S − L,
//     L being elapsed time (across a daylight-saving change, 24 h before
//     09:00 is 08:00 or 10:00 by the clock the day before).
//  2. If that moment falls in the quiet hours [QuietStart, QuietEnd) by the
//     branch's wall clock (default 21:00–07:00, a period that may span
//     midnight), the reminder moves:
//     a. to the QuietEnd (07:00) that ends that quiet period, if that is at
//     least QuietEndNotice (1 h) before S;
//     b. otherwise to the evening before that quiet period, at QuietStart −
//     EveningBeforeQuiet (20:00 on the day the quiet period began).
//  3. Wall times are those of the branch's time zone, so the quiet period is
//     21:00–07:00 by the clock also on the night of a daylight-saving change
//     (an hour shorter or longer in real time). A wall time the clock skips
//     stands for the moment the clock jumps past it.
//
// So a 2 h reminder of a 08:30 visit goes at 07:00, of a 07:30 visit at 20:00
// the evening before, and of a 23:30 visit at 20:00 the same evening.
// Whether a run sends it at all is ReminderIsDue's rule.
type ReminderPolicy struct {
	// LeadTimes are how long before the start each reminder is due
	// (default DefaultLeadTimes: 24 h and 2 h). Each must be positive.
	LeadTimes []time.Duration
	// QuietStart and QuietEnd ("HH:MM", branch local time) bound the quiet
	// hours [QuietStart, QuietEnd); default 21:00 and 07:00. Equal values
	// (or both empty) mean no quiet hours.
	QuietStart, QuietEnd string
}

// DefaultReminderPolicy returns the policy with every default.
func DefaultReminderPolicy() ReminderPolicy {
	return ReminderPolicy{LeadTimes: DefaultLeadTimes(), QuietStart: DefaultQuietStart, QuietEnd: DefaultQuietEnd}
}

// Validate checks the policy: at least one lead time, each positive and
// distinct; QuietStart and QuietEnd both "HH:MM" (or both empty) and a quiet
// period of at most MaxQuietHours. VALIDATION_FAILED names the field.
func (p ReminderPolicy) Validate() error {
	if len(p.LeadTimes) == 0 {
		return invalid("leadTimes: at least one lead time is required")
	}
	seen := map[time.Duration]bool{}
	for i, l := range p.LeadTimes {
		switch {
		case l <= 0:
			return invalid("leadTimes[%d]: must be positive", i)
		case l%time.Minute != 0:
			return invalid("leadTimes[%d]: must be a whole number of minutes", i)
		case seen[l]:
			return invalid("leadTimes[%d]: %v is given twice", i, l)
		}
		seen[l] = true
	}
	if p.QuietStart == "" && p.QuietEnd == "" {
		return nil
	}
	qs, ok1 := parseHHMM(p.QuietStart, false)
	qe, ok2 := parseHHMM(p.QuietEnd, false)
	switch {
	case !ok1:
		return invalid("quietStart: must be HH:MM")
	case !ok2:
		return invalid("quietEnd: must be HH:MM")
	case quietLength(qs, qe) > MaxQuietHours:
		return invalid("quiet hours %s–%s: at most %v", p.QuietStart, p.QuietEnd, MaxQuietHours)
	}
	return nil
}

// quietLength is the wall-clock length of [qs, qe), minutes after midnight,
// wrapping at midnight.
func quietLength(qs, qe int) time.Duration {
	return time.Duration((qe-qs+1440)%1440) * time.Minute
}

// quiet returns the quiet hours in minutes after midnight; ok is false when
// there are none (equal or malformed bounds: Validate reports the latter).
func (p ReminderPolicy) quiet() (qs, qe int, ok bool) {
	qs, ok1 := parseHHMM(p.QuietStart, false)
	qe, ok2 := parseHHMM(p.QuietEnd, false)
	return qs, qe, ok1 && ok2 && qs != qe
}

// MinLead and MaxLead return the shortest and longest lead time (0 if none).
func (p ReminderPolicy) MinLead() time.Duration {
	var m time.Duration
	for i, l := range p.LeadTimes {
		if i == 0 || l < m {
			m = l
		}
	}
	return m
}

// MaxLead returns the longest lead time (0 if none).
func (p ReminderPolicy) MaxLead() time.Duration {
	var m time.Duration
	for _, l := range p.LeadTimes {
		m = max(m, l)
	}
	return m
}

// MaxShift bounds how far SendAt moves a reminder from start − lead, either
// way: the quiet period's length plus EveningBeforeQuiet plus slack for a
// daylight-saving change. A job looking for the reminders sent in a window
// (from, to] finds them all among the visits starting in
// (from + MinLead − MaxShift, to + MaxLead + MaxShift].
func (p ReminderPolicy) MaxShift() time.Duration {
	qs, qe, ok := p.quiet()
	if !ok {
		return 0
	}
	return quietLength(qs, qe) + EveningBeforeQuiet + clockChangeSlack
}

// SendAt returns when the reminder with lead time lead of a visit starting
// at start is sent, by the rule of ReminderPolicy; loc is the branch's zone.
func (p ReminderPolicy) SendAt(start time.Time, lead time.Duration, loc *time.Location) time.Time {
	due := start.Add(-lead)
	qs, qe, ok := p.quiet()
	if !ok {
		return due
	}
	l := due.In(loc)
	y, m, d := l.Date()
	tod := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute +
		time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	qsD, qeD := time.Duration(qs)*time.Minute, time.Duration(qe)*time.Minute
	// The quiet period containing due began on day d+began and ends on day
	// d+ends (relative to due's local date).
	var began, ends int
	switch {
	case qs < qe: // within one day, e.g. 00:00–06:00
		if tod < qsD || tod >= qeD {
			return due
		}
	case tod >= qsD: // spans midnight and began this evening
		ends = 1
	case tod < qeD: // spans midnight and began yesterday evening
		began = -1
	default:
		return due
	}
	if end := wallInstant(loc, y, m, d+ends, qe); !end.After(start.Add(-QuietEndNotice)) {
		return end
	}
	return wallInstant(loc, y, m, d+began, qs-int(EveningBeforeQuiet/time.Minute))
}

// QuietUntil reports whether t lies in the quiet hours by the clock of loc
// and, if so, returns the end of that quiet period (the next QuietEnd). It
// is the rule for messages that are not reminders but may wait for the
// morning (results ready, recollection needed): they are held until then.
func (p ReminderPolicy) QuietUntil(t time.Time, loc *time.Location) (time.Time, bool) {
	qs, qe, ok := p.quiet()
	if !ok {
		return time.Time{}, false
	}
	l := t.In(loc)
	y, m, d := l.Date()
	tod := l.Hour()*60 + l.Minute()
	var ends int
	switch {
	case qs < qe: // within one day, e.g. 00:00–06:00
		if tod < qs || tod >= qe {
			return time.Time{}, false
		}
	case tod >= qs: // spans midnight and began this evening
		ends = 1
	case tod < qe: // spans midnight and began yesterday evening
	default:
		return time.Time{}, false
	}
	return wallInstant(loc, y, m, d+ends, qe), true
}

// DueReminder is one reminder of a visit that a run sends.
type DueReminder struct {
	// Lead is the reminder's lead time (one of the policy's LeadTimes).
	Lead time.Duration
	// SendAt is when the reminder is due (ReminderPolicy.SendAt).
	SendAt time.Time
}

// LeadMinutes returns the lead time in whole minutes (the reminder's key).
func (r DueReminder) LeadMinutes() int { return int(r.Lead / time.Minute) }

// ReminderIsDue reports whether a run over the window (from, to], to being
// the run's now, sends the reminder of a whose time is sendAt: a is booked,
// from < sendAt ≤ to, the visit has not started (to < a.Start), and sendAt is
// not before a.CreatedAt — a visit booked after its reminder's time gets only
// the booking confirmation, not a reminder moments later.
func ReminderIsDue(a Appointment, sendAt, from, to time.Time) bool {
	return a.Status == StatusBooked &&
		sendAt.After(from) && !sendAt.After(to) &&
		to.Before(a.Start) &&
		!sendAt.Before(a.CreatedAt)
}

// DueReminders returns the reminders of a that a run over the window
// (from, to] sends (ReminderIsDue), in the order of p.LeadTimes; loc is the
// branch's zone.
func (p ReminderPolicy) DueReminders(a Appointment, loc *time.Location, from, to time.Time) []DueReminder {
	var out []DueReminder
	for _, lead := range p.LeadTimes {
		at := p.SendAt(a.Start, lead, loc)
		if ReminderIsDue(a, at, from, to) {
			out = append(out, DueReminder{Lead: lead, SendAt: at})
		}
	}
	return out
}
