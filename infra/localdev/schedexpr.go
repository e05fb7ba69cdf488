package localdev

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scheduleExpr is a parsed EventBridge / EventBridge Scheduler expression:
// rate(N unit), cron(...) or (Scheduler only) at(yyyy-mm-ddThh:mm:ss).
type scheduleExpr struct {
	text  string
	rate  time.Duration // rate(...)
	at    time.Time     // at(...), in loc
	cron  *cronExpr
	loc   *time.Location
	start time.Time // rate schedules count from here
}

// parseSchedule parses expr; loc is the ScheduleExpressionTimezone (UTC when
// nil); start is when the schedule was created (rate schedules fire at start +
// k × rate).
func parseSchedule(expr string, loc *time.Location, start time.Time) (*scheduleExpr, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := &scheduleExpr{text: expr, loc: loc, start: start}
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		d, err := parseRate(expr[5 : len(expr)-1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", expr, err)
		}
		s.rate = d
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, err := parseCron(expr[5 : len(expr)-1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", expr, err)
		}
		s.cron = c
	case strings.HasPrefix(expr, "at(") && strings.HasSuffix(expr, ")"):
		t, err := time.ParseInLocation("2006-01-02T15:04:05", expr[3:len(expr)-1], loc)
		if err != nil {
			return nil, fmt.Errorf("%s: want at(yyyy-mm-ddThh:mm:ss): %w", expr, err)
		}
		s.at = t
	default:
		return nil, fmt.Errorf("%q: want rate(...), cron(...) or at(...)", expr)
	}
	return s, nil
}

// parseRate reads "N unit": the unit is singular when N is 1 and plural
// otherwise, as AWS requires.
func parseRate(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, fmt.Errorf("want rate(value unit)")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("the value must be a positive integer")
	}
	unit := f[1]
	base := strings.TrimSuffix(unit, "s")
	if (n == 1) != (unit == base) {
		return 0, fmt.Errorf("the unit must be singular when the value is 1 and plural otherwise")
	}
	switch base {
	case "minute":
		return time.Duration(n) * time.Minute, nil
	case "hour":
		return time.Duration(n) * time.Hour, nil
	case "day":
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("unit %q: want minute(s), hour(s) or day(s)", unit)
}

// next returns the first fire time strictly after t, or the zero time when
// the schedule never fires again.
func (s *scheduleExpr) next(t time.Time) time.Time {
	switch {
	case s.rate > 0:
		if t.Before(s.start) {
			return s.start.Add(s.rate)
		}
		k := t.Sub(s.start)/s.rate + 1
		return s.start.Add(k * s.rate)
	case !s.at.IsZero():
		if s.at.After(t) {
			return s.at
		}
		return time.Time{}
	case s.cron != nil:
		return s.cron.next(t.In(s.loc))
	}
	return time.Time{}
}

// cronExpr is AWS's six-field cron: minutes hours day-of-month month
// day-of-week year. Day-of-week runs 1-7 from SUN; one of day-of-month and
// day-of-week must be "?".
type cronExpr struct {
	minutes, hours, months [64]bool
	years                  map[int]bool // nil: every year
	dom                    domSpec
	dow                    dowSpec
}

type domSpec struct {
	any       bool // ? or *
	days      [32]bool
	last      bool // L
	lastWeek  bool // LW
	weekdayOf int  // nW: the weekday nearest day n
}

type dowSpec struct {
	any     bool // ? or *
	days    [8]bool
	lastOf  int // nL: the last weekday n of the month
	nth     int // n#k: the k-th weekday n ...
	nthWeek int // ... k
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(s string) (*cronExpr, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cronExpr{}
	if err := parseList(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if err := parseList(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if err := parseList(f[3], 1, 12, monthNames, c.months[:]); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	if f[5] != "*" {
		years := make([]bool, 2200)
		if err := parseList(f[5], 1970, 2199, nil, years); err != nil {
			return nil, fmt.Errorf("year: %w", err)
		}
		c.years = map[int]bool{}
		for y, ok := range years {
			if ok {
				c.years[y] = true
			}
		}
	}
	domQ, dowQ := f[2] == "?", f[4] == "?"
	if domQ == dowQ {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be ?")
	}
	if err := c.parseDOM(f[2]); err != nil {
		return nil, fmt.Errorf("day-of-month: %w", err)
	}
	if err := c.parseDOW(f[4]); err != nil {
		return nil, fmt.Errorf("day-of-week: %w", err)
	}
	return c, nil
}

func (c *cronExpr) parseDOM(s string) error {
	switch {
	case s == "?" || s == "*":
		c.dom.any = true
	case s == "L":
		c.dom.last = true
	case s == "LW":
		c.dom.lastWeek = true
	case strings.HasSuffix(s, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "W"))
		if err != nil || n < 1 || n > 31 {
			return fmt.Errorf("%q: want nW with n in 1-31", s)
		}
		c.dom.weekdayOf = n
	default:
		return parseList(s, 1, 31, nil, c.dom.days[:])
	}
	return nil
}

func (c *cronExpr) parseDOW(s string) error {
	switch {
	case s == "?" || s == "*":
		c.dow.any = true
	case s == "L":
		c.dow.days[7] = true // L alone is the last day of the week: Saturday
	case strings.HasSuffix(s, "L"):
		n, err := dayValue(strings.TrimSuffix(s, "L"))
		if err != nil {
			return err
		}
		c.dow.lastOf = n
	case strings.Contains(s, "#"):
		d, k, _ := strings.Cut(s, "#")
		n, err := dayValue(d)
		if err != nil {
			return err
		}
		w, err := strconv.Atoi(k)
		if err != nil || w < 1 || w > 5 {
			return fmt.Errorf("%q: want day#k with k in 1-5", s)
		}
		c.dow.nth, c.dow.nthWeek = n, w
	default:
		return parseList(s, 1, 7, dayNames, c.dow.days[:])
	}
	return nil
}

func dayValue(s string) (int, error) {
	if n, ok := dayNames[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 7 {
		return 0, fmt.Errorf("%q: want a day 1-7 or SUN-SAT", s)
	}
	return n, nil
}

// parseList reads "*", "a", "a-b", "a/n", "a-b/n", "*/n" and comma lists of
// them into set.
func parseList(s string, lo, hi int, names map[string]int, set []bool) error {
	value := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q: want %d-%d", v, lo, hi)
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q: bad increment", part)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a); err != nil {
				return err
			}
			if to, err = value(b); err != nil {
				return err
			}
			if to < from {
				return fmt.Errorf("%q: range ends before it starts", part)
			}
		default:
			v, err := value(rng)
			if err != nil {
				return err
			}
			from = v
			if !hasStep {
				to = v
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return nil
}

// next returns the first matching minute strictly after t (in t's
// location), searching at most ten years ahead.
func (c *cronExpr) next(t time.Time) time.Time {
	loc := t.Location()
	t = t.Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < 366*10; i++ {
		d := day.AddDate(0, 0, i)
		if !c.dayMatches(d) {
			continue
		}
		for h := 0; h < 24; h++ {
			if !c.hours[h] {
				continue
			}
			for m := 0; m < 60; m++ {
				if !c.minutes[m] {
					continue
				}
				at := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
				// Skip wall times a DST change leaves out or repeats.
				if at.Hour() != h || at.Minute() != m || at.Before(t) {
					continue
				}
				return at
			}
		}
	}
	return time.Time{}
}

func (c *cronExpr) dayMatches(d time.Time) bool {
	if c.years != nil && !c.years[d.Year()] {
		return false
	}
	if !c.months[int(d.Month())] {
		return false
	}
	return c.domMatches(d) && c.dowMatches(d)
}

func (c *cronExpr) domMatches(d time.Time) bool {
	last := daysIn(d)
	switch {
	case c.dom.any:
		return true
	case c.dom.last:
		return d.Day() == last
	case c.dom.lastWeek:
		return d.Day() == nearestWeekday(d, last)
	case c.dom.weekdayOf > 0:
		n := c.dom.weekdayOf
		if n > last {
			return false
		}
		return d.Day() == nearestWeekday(d, n)
	}
	return c.dom.days[d.Day()]
}

func (c *cronExpr) dowMatches(d time.Time) bool {
	wd := int(d.Weekday()) + 1 // SUN = 1
	switch {
	case c.dow.any:
		return true
	case c.dow.lastOf > 0:
		return wd == c.dow.lastOf && d.Day()+7 > daysIn(d)
	case c.dow.nth > 0:
		return wd == c.dow.nth && (d.Day()-1)/7+1 == c.dow.nthWeek
	}
	return c.dow.days[wd]
}

func daysIn(d time.Time) int {
	return time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, d.Location()).Day()
}

// nearestWeekday returns the day of d's month that is the weekday (MON-FRI)
// nearest to day n, without leaving the month (Quartz's W).
func nearestWeekday(d time.Time, n int) int {
	t := time.Date(d.Year(), d.Month(), n, 12, 0, 0, 0, d.Location())
	last := daysIn(d)
	switch t.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}
