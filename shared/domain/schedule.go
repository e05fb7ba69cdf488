package domain

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	// The Lambda base image (provided.al2023) ships without a zoneinfo
	// database; embedding it here, where every zone is loaded, keeps
	// LoadLocation working wherever the binary runs.
	_ "time/tzdata"

	"github.com/labchain/appointments/shared/apperr"
)

// MaxRangeDays is the longest availability query, in days (inclusive range).
const MaxRangeDays = 31

// MaxCellsPerBooking bounds cells × resources of one booking so that a
// reschedule (release old + take new + appointment + history + idempotency +
// outbox) fits in one 100-item DynamoDB transaction.
const MaxCellsPerBooking = 40

// DefaultMaxAdvanceDays applies when a service sets no booking horizon.
const DefaultMaxAdvanceDays = 60

// Plan is the outcome of planning a booking: the interval and the resources and
// cells it would hold.
type Plan struct {
	Start     time.Time
	End       time.Time
	Date      string // branch-local date of Start
	Resources []string
	Cells     []Cell
}

const dateLayout = "2006-01-02"

// locations caches loaded zones: time.LoadLocation parses the zone data on
// every call, and a *time.Location is immutable and safe to share. Only valid
// names are stored, so the cache is bounded by the IANA database.
var locations sync.Map // string → *time.Location

// LoadLocation loads an IANA zone; VALIDATION_FAILED if unknown.
//
// "" and "Local" are rejected although the standard library accepts them: they
// name UTC or the host's zone, never a branch's.
func LoadLocation(tz string) (*time.Location, error) {
	if l, ok := locations.Load(tz); ok {
		return l.(*time.Location), nil
	}
	if tz == "" || tz == "Local" {
		return nil, apperr.E(apperr.Validation, "timeZone: must be an IANA time zone such as %q", DefaultTimeZone)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, apperr.E(apperr.Validation, "timeZone: unknown time zone %q", tz)
	}
	locations.Store(tz, loc)
	return loc, nil
}

// LocalDate returns t's date in loc as YYYY-MM-DD.
func LocalDate(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(dateLayout)
}

// parseDate parses a strict YYYY-MM-DD civil date (as midnight UTC, which is
// only used for calendar arithmetic).
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// DatesInRange lists the dates from..to inclusive (YYYY-MM-DD); VALIDATION_FAILED
// if either is malformed, to is before from, or the range exceeds maxDays.
// A maxDays ≤ 0 means MaxRangeDays, so that no caller can ask for an unbounded
// range by accident.
func DatesInRange(from, to string, maxDays int) ([]string, error) {
	if maxDays <= 0 {
		maxDays = MaxRangeDays
	}
	f, ok := parseDate(from)
	if !ok {
		return nil, apperr.E(apperr.Validation, "from: must be a date YYYY-MM-DD")
	}
	t, ok := parseDate(to)
	if !ok {
		return nil, apperr.E(apperr.Validation, "to: must be a date YYYY-MM-DD")
	}
	if t.Before(f) {
		return nil, apperr.E(apperr.Validation, "to: must not be before from")
	}
	// Civil dates in UTC have no DST, so every day is exactly 24h.
	n := int(t.Sub(f)/(24*time.Hour)) + 1
	if n > maxDays {
		return nil, apperr.E(apperr.Validation, "to: the range may span at most %d days", maxDays)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = f.AddDate(0, 0, i).Format(dateLayout)
	}
	return out, nil
}

// weekdayNames are the DayHours.Day values, indexed by time.Weekday.
var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekdayIndex(day string) int {
	for i, n := range weekdayNames {
		if n == day {
			return i
		}
	}
	return -1
}

// parseHHMM parses a strict 24-hour "HH:MM" into minutes after midnight;
// "24:00" (1440) only when allow24.
func parseHHMM(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 {
		return 0, false
	}
	if h == 24 && m == 0 && allow24 {
		return 1440, true
	}
	if h > 23 {
		return 0, false
	}
	return h*60 + m, true
}

// dayHM is one weekday's opening, in minutes after local midnight.
type dayHM struct {
	open, close int
	ok          bool
}

// week is weekly hours parsed once, indexed by time.Weekday, so that the
// per-day work of Availability does no string parsing.
type week [7]dayHM

// parseWeek keeps the first valid entry per weekday; malformed entries count
// as closed (stored hours were validated, so this is only defensive).
func parseWeek(weekly []DayHours) week {
	var w week
	for _, d := range weekly {
		i := weekdayIndex(d.Day)
		if i < 0 || w[i].ok {
			continue
		}
		o, ok1 := parseHHMM(d.Open, false)
		c, ok2 := parseHHMM(d.Close, true)
		if ok1 && ok2 && o < c {
			w[i] = dayHM{open: o, close: c, ok: true}
		}
	}
	return w
}

// wallInstant returns the earliest instant at which the clock in loc reads at
// least the wall time y-m-d 00:00 + minutes (minutes may be 1440, the next
// midnight). This makes DST deterministic, where time.Date is not (it may
// normalise a skipped wall time backwards or forwards depending on the zone):
//   - a wall time skipped by a spring-forward gap maps to the end of the gap,
//     the moment the clock jumps past it (02:30 → 03:00 in New York);
//   - a wall time repeated by a fall-back maps to its first occurrence.
func wallInstant(loc *time.Location, y int, m time.Month, d, minutes int) time.Time {
	want := time.Date(y, m, d, 0, minutes, 0, 0, time.UTC) // normalises 24:00
	t := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), 0, 0, loc)
	_, off := t.Zone()
	got := t.Unix() + int64(off)
	switch w := want.Unix(); {
	case got < w: // in a gap, resolved backwards: the clock reaches w when the gap ends
		if _, end := t.ZoneBounds(); !end.IsZero() {
			t = end
		}
	case got > w: // in a gap, resolved forwards: the gap ends where t's zone period starts
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			t = start
		}
	default: // exists; if the previous period had a larger offset it may exist twice
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			_, prev := start.Add(-time.Second).Zone()
			if prev > off {
				if t2 := t.Add(-time.Duration(prev-off) * time.Second); t2.Before(start) {
					t = t2
				}
			}
		}
	}
	return t.In(loc)
}

// windowOf is the opening interval of a civil date under w.
func windowOf(loc *time.Location, w *week, date time.Time) (open, close time.Time, ok bool) {
	dh := w[date.Weekday()]
	if !dh.ok {
		return time.Time{}, time.Time{}, false
	}
	y, m, d := date.Date()
	open = wallInstant(loc, y, m, d, dh.open)
	close = wallInstant(loc, y, m, d, dh.close)
	if !open.Before(close) { // e.g. a date skipped entirely by a zone change
		return time.Time{}, time.Time{}, false
	}
	return open, close, true
}

// DayWindow returns the opening interval of date in loc according to weekly;
// ok is false when the weekday is absent (closed). Open and close are wall times
// of that date converted to instants, so the interval is correct across DST.
//
// A wall time that does not exist (spring-forward gap) becomes the instant the
// clock jumps past it, and one that occurs twice (fall-back) its first
// occurrence; "24:00" is the next local midnight. ok is also false for a
// malformed date or when the resulting interval is empty.
func DayWindow(loc *time.Location, weekly []DayHours, date string) (open, close time.Time, ok bool) {
	dt, valid := parseDate(date)
	if !valid {
		return time.Time{}, time.Time{}, false
	}
	w := parseWeek(weekly)
	return windowOf(loc, &w, dt)
}

// schedRes is a candidate resource prepared for fast free/busy checks.
type schedRes struct {
	id      string
	own     bool
	hours   week
	taken   []int64 // sorted Unix starts of cells held by other appointments
	dayOK   bool    // own hours: open on the current date
	dayOpen int64   // own hours on the current date, Unix seconds
	dayEnd  int64
}

// schedReq is one requirement with its candidate resources in id order.
type schedReq struct {
	typ   string
	count int
	res   []*schedRes
}

// scheduler is everything Availability and PlanBooking precompute once per call.
type scheduler struct {
	loc      *time.Location
	slot     int64 // seconds
	dur      int64 // seconds
	cells    int   // cells per resource
	span     int64 // cells × slot: the time a resource is held
	branch   week
	closures map[string]bool
	reqs     []schedReq
	all      []*schedRes
	loT, hiT time.Time // booking window, inclusive
	lo, hi   int64     // the same in whole Unix seconds, rounded inwards
	minutes  int       // min notice, for messages
	days     int       // max advance, for messages
}

// clampMinutes bounds a configured count of minutes so that converting it to a
// Duration cannot overflow (about 190 years).
func clampMinutes(m int) time.Duration {
	const maxMin = 100_000_000
	if m < 0 {
		return 0
	}
	if m > maxMin {
		m = maxMin
	}
	return time.Duration(m) * time.Minute
}

// newScheduler validates what the stored catalog and service promise and
// precomputes everything that does not depend on the date.
func newScheduler(cat Catalog, svc Service, occ Occupancy, now time.Time, ignore string) (*scheduler, error) {
	tz := cat.Branch.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := LoadLocation(tz)
	if err != nil {
		// Stored data is broken, not the request.
		return nil, apperr.Wrap(err, "branch %s has an unusable time zone", cat.Branch.ID)
	}
	slotMin := cat.Branch.SlotMinutes
	if slotMin <= 0 {
		slotMin = DefaultSlotMinutes
	}
	if svc.DurationMinutes < 1 || len(svc.Requires) == 0 {
		return nil, apperr.E(apperr.Internal, "service %s has no duration or no requirements", svc.ID)
	}
	s := &scheduler{
		loc:    loc,
		slot:   int64(slotMin) * 60,
		dur:    int64(svc.DurationMinutes) * 60,
		cells:  (svc.DurationMinutes + slotMin - 1) / slotMin,
		branch: parseWeek(cat.Hours.Weekly),
	}
	s.span = int64(s.cells) * s.slot
	total := 0
	for _, r := range svc.Requires {
		if r.Count < 1 || r.Count > MaxCellsPerBooking {
			return nil, apperr.E(apperr.Internal, "service %s: requirement %q has count %d", svc.ID, r.Type, r.Count)
		}
		total += r.Count
	}
	if s.cells*total > MaxCellsPerBooking {
		return nil, apperr.E(apperr.Internal, "service %s needs %d cells, more than %d", svc.ID, s.cells*total, MaxCellsPerBooking)
	}
	if len(cat.Hours.Closures) > 0 {
		s.closures = make(map[string]bool, len(cat.Hours.Closures))
		for _, c := range cat.Hours.Closures {
			s.closures[c.Date] = true
		}
	}

	s.minutes = max(svc.MinNoticeMinutes, 0)
	s.days = svc.MaxAdvanceDays
	if s.days <= 0 {
		s.days = DefaultMaxAdvanceDays
	}
	s.loT = now.Add(clampMinutes(s.minutes))
	s.hiT = now.Add(clampMinutes(min(s.days, 36500) * 24 * 60))
	s.lo = s.loT.Unix()
	if s.loT.Nanosecond() > 0 { // grid starts are whole seconds: round up
		s.lo++
	}
	s.hi = s.hiT.Unix() // Unix floors

	byID := make(map[string]int) // resource id → index in s.all
	s.reqs = make([]schedReq, len(svc.Requires))
	for i, r := range svc.Requires {
		s.reqs[i] = schedReq{typ: r.Type, count: r.Count}
	}
	for _, r := range cat.Resources {
		if _, dup := byID[r.ID]; !r.Active || dup {
			continue
		}
		for i := range s.reqs {
			if s.reqs[i].typ != r.Type {
				continue
			}
			sr := &schedRes{id: r.ID, own: len(r.Hours) > 0}
			if sr.own {
				sr.hours = parseWeek(r.Hours)
			}
			byID[r.ID] = len(s.all)
			s.all = append(s.all, sr)
			s.reqs[i].res = append(s.reqs[i].res, sr)
			break
		}
	}
	for i := range s.reqs {
		slices.SortFunc(s.reqs[i].res, func(a, b *schedRes) int { return strings.Compare(a.id, b.id) })
	}
	s.indexTaken(occ, byID, ignore)
	return s, nil
}

// indexTaken fills each candidate's sorted taken starts with a constant number
// of allocations however large occ is: one pass over the map into a flat
// slice, then a counting sort by resource into one shared backing array.
func (s *scheduler) indexTaken(occ Occupancy, byID map[string]int, ignore string) {
	type cell struct {
		res   int
		start int64
	}
	flat := make([]cell, 0, len(occ))
	counts := make([]int, len(s.all)+1)
	for k, appt := range occ {
		if ignore != "" && appt == ignore {
			continue
		}
		if i, ok := byID[k.ResourceID]; ok {
			flat = append(flat, cell{i, k.Start})
			counts[i+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	starts := make([]int64, len(flat))
	next := slices.Clone(counts[:len(s.all)])
	for _, c := range flat {
		starts[next[c.res]] = c.start
		next[c.res]++
	}
	for i, r := range s.all {
		r.taken = starts[counts[i]:counts[i+1]:counts[i+1]]
		slices.Sort(r.taken)
	}
}

// day returns the branch window of a civil date; ok is false when the branch
// is closed (closed weekday or closure).
func (s *scheduler) day(date time.Time, dateStr string) (open, close int64, ok bool) {
	if s.closures[dateStr] {
		return 0, 0, false
	}
	o, c, ok := windowOf(s.loc, &s.branch, date)
	if !ok {
		return 0, 0, false
	}
	return o.Unix(), c.Unix(), true
}

// ownHours prepares, for a civil date, the window of every resource that has
// its own hours, so that free needs no date arithmetic.
func (s *scheduler) ownHours(date time.Time) {
	for _, r := range s.all {
		if r.own {
			ro, rc, ok := windowOf(s.loc, &r.hours, date)
			r.dayOK, r.dayOpen, r.dayEnd = ok, ro.Unix(), rc.Unix()
		}
	}
}

// free reports whether r can serve [start, start+dur) on the prepared day.
//
// A taken cell is treated as the interval [t, t+slot) and r is busy if any
// overlaps the cells of the booking. On the grid this is exactly "one of
// the booking's cells is taken"; it also catches cells that are off today's
// grid because the hours changed after they were booked, which an exact key
// lookup would miss (and storage, which compares keys, would then allow).
func (s *scheduler) free(r *schedRes, start int64) bool {
	if r.own && (!r.dayOK || start < r.dayOpen || start+s.dur > r.dayEnd) {
		return false
	}
	i, _ := slices.BinarySearch(r.taken, start-s.slot+1)
	return i == len(r.taken) || r.taken[i] >= start+s.span
}

// available is how many more bookings could start at start.
func (s *scheduler) available(start int64) int {
	best := -1
	for i := range s.reqs {
		q := &s.reqs[i]
		n := 0
		for _, r := range q.res {
			if s.free(r, start) {
				n++
			}
		}
		a := n / q.count
		if a == 0 {
			return 0
		}
		if best < 0 || a < best {
			best = a
		}
	}
	return max(best, 0)
}

// Availability lists, for each date, every grid start (open + k×slot) at which svc
// fits inside the branch's opening hours, off closures and inside the booking
// window relative to now, with Available = how many more bookings could start
// there (min over requirements of free resources of that type ÷ count, a
// resource being free when active, inside its own hours and all its cells over
// the duration are free in occ). Starts with Available 0 are omitted. Start and
// End are in the branch's zone.
//
// The result is sorted by start and never nil. A malformed date is
// VALIDATION_FAILED; a catalog or service that cannot be scheduled (unknown
// zone, no requirements, too many cells) is INTERNAL, as it was validated when
// stored.
func Availability(cat Catalog, svc Service, occ Occupancy, dates []string, now time.Time) ([]Slot, error) {
	parsed := make([]time.Time, len(dates))
	for i, d := range dates {
		t, ok := parseDate(d)
		if !ok {
			return nil, apperr.E(apperr.Validation, "dates[%d]: must be a date YYYY-MM-DD", i)
		}
		parsed[i] = t
	}
	slices.SortFunc(parsed, func(a, b time.Time) int { return a.Compare(b) })
	parsed = slices.Compact(parsed)

	s, err := newScheduler(cat, svc, occ, now, "")
	if err != nil {
		return nil, err
	}
	type window struct {
		date        time.Time
		open, close int64
	}
	days := make([]window, 0, len(parsed))
	most := 0 // grid starts in all windows: a bound on the result
	for _, date := range parsed {
		open, close, ok := s.day(date, date.Format(dateLayout))
		if ok && close >= s.lo && open <= s.hi {
			days = append(days, window{date, open, close})
			most += int((close-open)/s.slot) + 1
		}
	}
	dur := time.Duration(s.dur) * time.Second
	out := make([]Slot, 0, most)
	for _, d := range days {
		s.ownHours(d.date)
		for st := d.open; st+s.dur <= d.close && st <= s.hi; st += s.slot {
			if st < s.lo {
				continue
			}
			if n := s.available(st); n > 0 {
				t := time.Unix(st, 0).In(s.loc)
				out = append(out, Slot{Start: t, End: t.Add(dur), Available: n})
			}
		}
	}
	return out, nil
}

// PlanBooking checks that start is a bookable grid start for svc (else
// OUTSIDE_SCHEDULE: closed, closure, off the grid, past, before min notice or
// beyond max advance) and picks, for each requirement, Count free resources of
// its type (else SLOT_UNAVAILABLE). Cells held by appointment ignore count as
// free (used by reschedule). rnd shuffles the choice among free resources to
// reduce contention; nil picks in id order.
//
// The booking-window checks come first (in the past, too soon, too far ahead),
// then the schedule (closure, closed day, outside opening hours, off the grid).
// Resources are grouped in requirement order, ids ascending within a group;
// Cells follow the same order, each resource's cells in time order.
func PlanBooking(cat Catalog, svc Service, occ Occupancy, start, now time.Time, ignore string, rnd *rand.Rand) (Plan, error) {
	s, err := newScheduler(cat, svc, occ, now, ignore)
	if err != nil {
		return Plan{}, err
	}
	start = start.In(s.loc)
	at := start.Format(time.RFC3339)
	st := start.Unix()
	switch {
	case start.Before(now):
		return Plan{}, apperr.E(apperr.OutsideSchedule, "start %s is in the past", at)
	case start.Before(s.loT):
		return Plan{}, apperr.E(apperr.OutsideSchedule, "start %s is too soon: book at least %d minutes ahead (min notice)", at, s.minutes)
	case start.After(s.hiT):
		return Plan{}, apperr.E(apperr.OutsideSchedule, "start %s is too far ahead: book at most %d days ahead", at, s.days)
	}
	dateStr := start.Format(dateLayout)
	date, _ := parseDate(dateStr)
	if s.closures[dateStr] {
		return Plan{}, apperr.E(apperr.OutsideSchedule, "the branch is closed on %s (closure)", dateStr)
	}
	open, close, ok := s.day(date, dateStr)
	if !ok {
		return Plan{}, apperr.E(apperr.OutsideSchedule, "the branch is closed on %s (closed day)", dateStr)
	}
	s.ownHours(date)
	if st < open || st+s.dur > close {
		return Plan{}, apperr.E(apperr.OutsideSchedule, "start %s is outside opening hours (%s–%s)", at,
			time.Unix(open, 0).In(s.loc).Format("15:04"), time.Unix(close, 0).In(s.loc).Format("15:04"))
	}
	if (st-open)%s.slot != 0 || start.Nanosecond() != 0 {
		return Plan{}, apperr.E(apperr.OutsideSchedule, "start %s is off the grid: starts are every %d minutes from opening", at, s.slot/60)
	}

	var ids []string
	var free []*schedRes
	for _, q := range s.reqs {
		free = free[:0]
		for _, r := range q.res {
			if s.free(r, st) {
				free = append(free, r)
			}
		}
		if len(free) < q.count {
			return Plan{}, apperr.E(apperr.SlotUnavailable, "no free %s at %s", q.typ, at)
		}
		if rnd != nil {
			rnd.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		}
		picked := make([]string, q.count)
		for i := range picked {
			picked[i] = free[i].id
		}
		slices.Sort(picked)
		ids = append(ids, picked...)
	}

	p := Plan{
		Start:     time.Unix(st, 0).In(s.loc),
		Date:      dateStr,
		Resources: ids,
		Cells:     make([]Cell, 0, len(ids)*s.cells),
	}
	p.End = p.Start.Add(time.Duration(s.dur) * time.Second)
	for _, id := range ids {
		for j := range s.cells {
			p.Cells = append(p.Cells, Cell{
				ResourceID: id,
				Start:      time.Unix(st+int64(j)*s.slot, 0).In(s.loc),
				Date:       dateStr,
			})
		}
	}
	return p, nil
}
