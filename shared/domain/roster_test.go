package domain

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

func TestCheckRosterWindow(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{"2026-12-01", "2026-12-01", true},
		{"2026-12-01", "2026-12-31", true},
		{"2026-12-01", "2027-03-02", true},  // 92 days
		{"2026-12-01", "2027-03-03", false}, // 93 days
		{"2026-12-02", "2026-12-01", false}, // reversed
		{"2026-12-1", "2026-12-31", false},
		{"2026-12-01", "2026-02-30", false},
		{"", "2026-12-31", false},
	}
	for _, tt := range tests {
		err := CheckRosterWindow(RosterWindow{From: tt.from, To: tt.to})
		if (err == nil) != tt.ok || (err != nil && !apperr.Is(err, apperr.Validation)) {
			t.Errorf("%s..%s: %v", tt.from, tt.to, err)
		}
	}
}

// rosterStarts offers days × perDay starts from 08:00 every 30 minutes, each
// with capacity cap, dates from 2026-12-01.
func rosterStarts(days, perDay, cap int) []CandidateStart {
	var out []CandidateStart
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			st := time.Date(2026, 12, 1+d, 8, 0, 0, 0, ictZone).Add(time.Duration(i) * 30 * time.Minute)
			out = append(out, CandidateStart{Date: st.Format("2006-01-02"), Start: st, Capacity: cap})
		}
	}
	return out
}

func participant(i int) RosterParticipant {
	return RosterParticipant{ExternalID: fmt.Sprintf("EMP-%04d", i), Name: fmt.Sprintf("พนักงาน %d", i),
		Phone: fmt.Sprintf("+6681%07d", i), Email: fmt.Sprintf("emp%d@example.co.th", i), Locale: "th"}
}

var decWindow = RosterWindow{From: "2026-12-01", To: "2026-12-05"}

func TestPlaceRoster(t *testing.T) {
	day := func(d, slot int) time.Time {
		return time.Date(2026, 12, d, 8, 0, 0, 0, ictZone).Add(time.Duration(slot) * 30 * time.Minute)
	}
	type placed struct {
		id        string
		start     time.Time
		preferred bool
	}
	type unplaced struct {
		id     string
		reason PlacementReason
	}
	p := func(i int, f func(*RosterParticipant)) RosterParticipant {
		x := participant(i)
		if f != nil {
			f(&x)
		}
		return x
	}
	tests := []struct {
		name     string
		ps       []RosterParticipant
		starts   []CandidateStart
		booked   map[string]RosterStart
		placed   []placed
		unplaced []unplaced
	}{
		{
			name:   "earliest starts in roster order",
			ps:     []RosterParticipant{p(1, nil), p(2, nil), p(3, nil)},
			starts: rosterStarts(2, 2, 1),
			placed: []placed{{"EMP-0001", day(1, 0), false}, {"EMP-0002", day(1, 1), false}, {"EMP-0003", day(2, 0), false}},
		},
		{
			name:   "capacity is shared by a start",
			ps:     []RosterParticipant{p(1, nil), p(2, nil), p(3, nil)},
			starts: rosterStarts(1, 2, 2),
			placed: []placed{{"EMP-0001", day(1, 0), false}, {"EMP-0002", day(1, 0), false}, {"EMP-0003", day(1, 1), false}},
		},
		{
			name: "preferred dates first, then the earliest start of the window",
			ps: []RosterParticipant{
				p(1, nil),
				p(2, func(x *RosterParticipant) { x.PreferredDate = "2026-12-01" }),
				p(3, func(x *RosterParticipant) { x.PreferredDate = "2026-12-02" }),
				p(4, func(x *RosterParticipant) { x.PreferredDate = "2026-12-02" }), // day 2 full: earliest left
			},
			starts:   rosterStarts(3, 1, 1),
			placed:   []placed{{"EMP-0001", day(3, 0), false}, {"EMP-0002", day(1, 0), true}, {"EMP-0003", day(2, 0), true}},
			unplaced: []unplaced{{"EMP-0004", PlacementNoCapacity}},
		},
		{
			name: "a full preferred date falls back to the earliest start",
			ps: []RosterParticipant{
				p(1, func(x *RosterParticipant) { x.PreferredDate = "2026-12-02" }),
				p(2, func(x *RosterParticipant) { x.PreferredDate = "2026-12-02" }),
			},
			starts: rosterStarts(2, 1, 1),
			placed: []placed{{"EMP-0001", day(2, 0), true}, {"EMP-0002", day(1, 0), false}},
		},
		{
			name: "reasons",
			ps: []RosterParticipant{
				p(1, func(x *RosterParticipant) { x.Phone = "0812345678" }),
				p(2, func(x *RosterParticipant) { x.Email = "not-an-email" }),
				p(3, func(x *RosterParticipant) { x.Name = "   " }),
				p(4, func(x *RosterParticipant) { x.Locale = "de" }),
				p(5, func(x *RosterParticipant) { x.Phone, x.Email = "", "" }),
				p(6, func(x *RosterParticipant) { x.PreferredDate = "2027-01-15" }),
				p(7, func(x *RosterParticipant) { x.PreferredDate = "15/12/2026" }),
				p(8, func(x *RosterParticipant) { x.ExternalID = "" }),
				p(9, func(x *RosterParticipant) { x.ExternalID = "EMP#9" }),
				p(10, nil),
				p(10, nil),
				p(11, func(x *RosterParticipant) { x.Phone = "" }), // email alone is enough
			},
			starts: rosterStarts(1, 1, 5),
			placed: []placed{{"EMP-0010", day(1, 0), false}, {"EMP-0011", day(1, 0), false}},
			unplaced: []unplaced{
				{"EMP-0001", PlacementInvalidContact}, {"EMP-0002", PlacementInvalidContact},
				{"EMP-0003", PlacementInvalidContact}, {"EMP-0004", PlacementInvalidContact},
				{"EMP-0005", PlacementInvalidContact}, {"EMP-0006", PlacementOutsideWindow},
				{"EMP-0007", PlacementInvalidParticipant}, {"", PlacementInvalidParticipant},
				{"EMP#9", PlacementInvalidParticipant}, {"EMP-0010", PlacementDuplicate},
			},
		},
		{
			name: "starts outside the window and full starts are ignored",
			ps:   []RosterParticipant{p(1, nil), p(2, nil)},
			starts: []CandidateStart{
				{Date: "2026-11-30", Start: day(1, 0).AddDate(0, 0, -1), Capacity: 9},
				{Date: "2026-12-01", Start: day(1, 0), Capacity: 0},
				{Date: "2026-12-06", Start: day(6, 0), Capacity: 9},
				{Date: "2026-12-05", Start: day(5, 3), Capacity: 1},
			},
			placed:   []placed{{"EMP-0001", day(5, 3), false}},
			unplaced: []unplaced{{"EMP-0002", PlacementNoCapacity}},
		},
		{
			name:   "already booked participants keep their start and use no capacity",
			ps:     []RosterParticipant{p(1, nil), p(2, nil)},
			starts: rosterStarts(1, 1, 1),
			booked: map[string]RosterStart{"camp-1#EMP-0001": {Date: "2026-12-03", Start: day(3, 4)}},
			placed: []placed{{"EMP-0001", day(3, 4), false}, {"EMP-0002", day(1, 0), false}},
		},
		{
			name: "no starts at all",
			ps:   []RosterParticipant{p(1, nil)}, unplaced: []unplaced{{"EMP-0001", PlacementNoCapacity}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlaceRoster("camp-1", decWindow, tt.ps, tt.starts, tt.booked)
			if err != nil {
				t.Fatal(err)
			}
			var gp []placed
			for _, x := range got.Placed {
				gp = append(gp, placed{x.Participant.ExternalID, x.Start, x.Preferred})
				if x.Key != "camp-1#"+x.Participant.ExternalID {
					t.Errorf("key %q", x.Key)
				}
			}
			var gu []unplaced
			for _, x := range got.Unplaced {
				gu = append(gu, unplaced{x.ExternalID, x.Reason})
				if (x.Reason == PlacementInvalidContact || x.Reason == PlacementInvalidParticipant) && x.Detail == "" {
					t.Errorf("%s: %s without detail", x.ExternalID, x.Reason)
				}
			}
			if !reflect.DeepEqual(gp, tt.placed) || !reflect.DeepEqual(gu, tt.unplaced) {
				t.Fatalf("placed %v\nwant   %v\nunplaced %v\nwant     %v", gp, tt.placed, gu, tt.unplaced)
			}
			if len(got.Placed)+len(got.Unplaced) != len(tt.ps) {
				t.Fatal("every participant must be reported once")
			}
		})
	}
}

func TestPlaceRosterNormalizes(t *testing.T) {
	x := participant(1)
	x.Name, x.Locale = "  สมชาย ใจดี ", ""
	got, err := PlaceRoster("camp-1", decWindow, []RosterParticipant{x}, rosterStarts(1, 1, 1), nil)
	if err != nil || len(got.Placed) != 1 {
		t.Fatal(got, err)
	}
	if p := got.Placed[0].Participant; p.Name != "สมชาย ใจดี" || p.Locale != "th" {
		t.Fatalf("not normalized: %+v", p)
	}
}

func TestPlaceRosterErrors(t *testing.T) {
	ps := []RosterParticipant{participant(1)}
	cases := map[string]func() error{
		"empty campaign":  func() error { _, err := PlaceRoster("", decWindow, ps, nil, nil); return err },
		"campaign with #": func() error { _, err := PlaceRoster("a#b", decWindow, ps, nil, nil); return err },
		"reversed window": func() error {
			_, err := PlaceRoster("c", RosterWindow{From: "2026-12-05", To: "2026-12-01"}, ps, nil, nil)
			return err
		},
		"malformed candidate date": func() error {
			_, err := PlaceRoster("c", decWindow, ps, []CandidateStart{{Date: "1 Dec", Capacity: 1}}, nil)
			return err
		},
	}
	for name, f := range cases {
		if err := f(); !apperr.Is(err, apperr.Validation) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPlaceRoster300 places a roster of 300 for 200 places: every place is
// taken, the other 100 are reported no_capacity, nobody is placed twice, the
// same input gives the same result, and a redelivery of the roster (booked
// participants passed in, their places gone from the availability) books
// nobody twice and reports the same placement.
func TestPlaceRoster300(t *testing.T) {
	const n = 300
	starts := rosterStarts(5, 8, 5) // 5 days × 8 starts × 5 = 200 places
	var ps []RosterParticipant
	for i := 0; i < n; i++ {
		p := participant(i)
		if i%4 == 0 { // a quarter prefer a date, mostly the last day
			p.PreferredDate = fmt.Sprintf("2026-12-%02d", 5-i%3)
		}
		ps = append(ps, p)
	}
	first, err := PlaceRoster("camp-300", decWindow, ps, starts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Placed) != 200 || len(first.Unplaced) != 100 {
		t.Fatalf("placed %d, unplaced %d", len(first.Placed), len(first.Unplaced))
	}
	used := map[time.Time]int{}
	seen := map[string]bool{}
	for _, p := range first.Placed {
		if seen[p.Key] {
			t.Fatalf("%s placed twice", p.Key)
		}
		seen[p.Key] = true
		used[p.Start]++
		if p.Date != p.Start.In(ictZone).Format("2006-01-02") {
			t.Fatalf("date %s for start %s", p.Date, p.Start)
		}
	}
	for _, s := range starts {
		if used[s.Start] != s.Capacity {
			t.Fatalf("start %s holds %d, capacity %d", s.Start, used[s.Start], s.Capacity)
		}
	}
	for _, u := range first.Unplaced {
		if u.Reason != PlacementNoCapacity || seen[u.Key] {
			t.Fatalf("unplaced %+v", u)
		}
		seen[u.Key] = true
	}
	if len(seen) != n {
		t.Fatalf("%d participants reported, want %d", len(seen), n)
	}
	preferred := 0
	for _, p := range first.Placed {
		if p.Preferred {
			preferred++
		}
	}
	if preferred == 0 {
		t.Fatal("no preferred date honoured")
	}

	again, err := PlaceRoster("camp-300", decWindow, ps, starts, nil)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatal("the same roster must give the same placement")
	}

	// Redelivery after the first delivery booked everyone it placed.
	booked := map[string]RosterStart{}
	for _, p := range first.Placed {
		booked[p.Key] = p.RosterStart
	}
	left := make([]CandidateStart, len(starts))
	for i, s := range starts {
		left[i] = s
		left[i].Capacity -= used[s.Start]
	}
	redelivered, err := PlaceRoster("camp-300", decWindow, ps, left, booked)
	if err != nil {
		t.Fatal(err)
	}
	for i := range redelivered.Placed {
		r, f := redelivered.Placed[i], first.Placed[i]
		if !r.Existing || r.Key != f.Key || r.RosterStart != f.RosterStart || r.Preferred != f.Preferred {
			t.Fatalf("redelivery placed %+v, first delivery %+v", r, f)
		}
	}
	if len(redelivered.Placed) != len(first.Placed) || !reflect.DeepEqual(redelivered.Unplaced, first.Unplaced) {
		t.Fatal("a redelivered roster must report the same placement")
	}

	// A crash after booking only half: the redelivery books the rest into
	// the places that are still free, and nobody twice.
	half := map[string]RosterStart{}
	left2 := make([]CandidateStart, len(starts))
	copy(left2, starts)
	for i, p := range first.Placed {
		if i%2 == 0 {
			half[p.Key] = p.RosterStart
			for j := range left2 {
				if left2[j].Start.Equal(p.Start) {
					left2[j].Capacity--
				}
			}
		}
	}
	resumed, err := PlaceRoster("camp-300", decWindow, ps, left2, half)
	if err != nil {
		t.Fatal(err)
	}
	if len(resumed.Placed) != 200 || len(resumed.Unplaced) != 100 {
		t.Fatalf("resumed: placed %d, unplaced %d", len(resumed.Placed), len(resumed.Unplaced))
	}
	used2 := map[time.Time]int{}
	for _, p := range resumed.Placed {
		used2[p.Start]++
	}
	for _, s := range starts {
		if used2[s.Start] != s.Capacity {
			t.Fatalf("resumed: start %s holds %d, capacity %d", s.Start, used2[s.Start], s.Capacity)
		}
	}
}
