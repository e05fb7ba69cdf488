package domain

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

// MaxRosterParticipants is the most participants one check-up roster may list.
const MaxRosterParticipants = 1000

// MaxRosterWindowDays is the longest campaign window, in days (inclusive).
// It bounds the availability a placement needs (one query per day).
const MaxRosterWindowDays = 92

// RosterWindow is the inclusive range of branch-local dates (YYYY-MM-DD) in
// which a campaign's participants are booked.
type RosterWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// CheckRosterWindow validates a window: both dates YYYY-MM-DD, From ≤ To, at
// most MaxRosterWindowDays days. VALIDATION_FAILED names the field. These are
// the rules of a roster that its JSON Schema cannot express.
func CheckRosterWindow(w RosterWindow) error {
	f, ok := parseDate(w.From)
	if !ok {
		return invalid("window.from: must be a date YYYY-MM-DD")
	}
	t, ok := parseDate(w.To)
	if !ok {
		return invalid("window.to: must be a date YYYY-MM-DD")
	}
	if t.Before(f) {
		return invalid("window.to: must not be before window.from")
	}
	if int(t.Sub(f)/(24*time.Hour))+1 > MaxRosterWindowDays {
		return invalid("window: may span at most %d days", MaxRosterWindowDays)
	}
	return nil
}

// Contains reports whether date (YYYY-MM-DD) lies in the window. Dates in this
// fixed format compare correctly as strings.
func (w RosterWindow) Contains(date string) bool { return w.From <= date && date <= w.To }

// RosterParticipant is one person of a corporate check-up roster.
type RosterParticipant struct {
	ExternalID    string `json:"externalId"` // the client's id of the person, unique per campaign
	Name          string `json:"name"`
	Phone         string `json:"phone"`
	Email         string `json:"email"`
	Locale        string `json:"locale"`
	PreferredDate string `json:"preferredDate,omitempty"` // YYYY-MM-DD, optional
}

// ParticipantKey is the identity of a participant across deliveries of a
// roster: campaign id and external id. A participant with a booking under
// this key is never booked again. Ids cannot contain '#', so the key is
// unambiguous.
func ParticipantKey(campaignID, externalID string) string { return campaignID + "#" + externalID }

// CandidateStart is a bookable start of the campaign's service in the window,
// with how many more participants it can take (Slot.Available).
type CandidateStart struct {
	Date     string    // branch-local date of Start, YYYY-MM-DD
	Start    time.Time // the start instant
	Capacity int       // ≤ 0: full
}

// RosterStart is where a participant is booked.
type RosterStart struct {
	Date  string    `json:"date"`
	Start time.Time `json:"start"`
}

// PlacementReason says why a participant was not placed.
type PlacementReason string

// Placement reasons.
const (
	// PlacementNoCapacity: no start of the window (or of the preferred date
	// and then of the whole window) had room left.
	PlacementNoCapacity PlacementReason = "no_capacity"
	// PlacementInvalidContact: name, phone, email or locale is unusable, or
	// there is neither phone nor email to send the confirmation to.
	PlacementInvalidContact PlacementReason = "invalid_contact"
	// PlacementInvalidParticipant: the external id or preferred date is
	// malformed.
	PlacementInvalidParticipant PlacementReason = "invalid_participant"
	// PlacementOutsideWindow: the preferred date is outside the campaign
	// window. The participant asked for a date the campaign does not cover,
	// so staff decide rather than the system booking another date.
	PlacementOutsideWindow PlacementReason = "outside_window"
	// PlacementDuplicate: the external id appears earlier in the same roster.
	PlacementDuplicate PlacementReason = "duplicate"
)

// PlacedParticipant is a participant with a start.
type PlacedParticipant struct {
	Index       int               // position in the roster
	Key         string            // ParticipantKey
	Participant RosterParticipant // trimmed, locale defaulted ("th")
	RosterStart
	// Preferred: the start is on the participant's preferred date.
	Preferred bool
	// Existing: the participant was already booked (the booked argument),
	// at this start; nothing is to be booked and no capacity was used.
	Existing bool
}

// UnplacedParticipant is a participant who gets no start, and why.
type UnplacedParticipant struct {
	Index      int    // position in the roster
	Key        string // ParticipantKey ("" if the external id is unusable)
	ExternalID string
	Reason     PlacementReason
	// Detail explains invalid_* reasons naming the field, never quoting its
	// value; "" otherwise.
	Detail string
}

// RosterPlacement is the outcome of PlaceRoster. Every participant of the
// roster is in exactly one of the lists; both are sorted by Index.
type RosterPlacement struct {
	Placed   []PlacedParticipant
	Unplaced []UnplacedParticipant
}

// PlaceRoster places a roster's participants into candidate starts. It is
// pure and deterministic: the same arguments give the same result.
//
//   - A participant whose key is in booked is reported placed at that start
//     (Existing) without using capacity: the availability the caller passes
//     already counts that booking. So a redelivered roster books nobody twice
//     and reports the same placement.
//   - The second and later occurrences of an external id are duplicate; an
//     unusable id or preferred date is invalid_participant; unusable contact
//     data is invalid_contact (see NormalizePatient; a phone or an email is
//     required); a preferred date outside the window is outside_window.
//   - The others are placed in two passes, each in roster order: first those
//     with a preferred date get the earliest start of that date with room;
//     then everyone not yet placed gets the earliest start of the window
//     with room. No start takes more than its Capacity; the rest are
//     no_capacity.
//
// Starts outside the window and starts with Capacity ≤ 0 are ignored.
// Capacities are taken as independent: for a service longer than the grid,
// overlapping starts share resources, so the caller should offer
// non-overlapping starts or re-plan a participant whose booking fails with
// SLOT_UNAVAILABLE. VALIDATION_FAILED for an empty campaign id or one with
// '#', an invalid window (CheckRosterWindow) or a candidate with a malformed
// date.
func PlaceRoster(campaignID string, window RosterWindow, participants []RosterParticipant, starts []CandidateStart, booked map[string]RosterStart) (RosterPlacement, error) {
	if campaignID == "" || strings.Contains(campaignID, "#") {
		return RosterPlacement{}, invalid("campaignId: is required and must not contain '#'")
	}
	if err := CheckRosterWindow(window); err != nil {
		return RosterPlacement{}, err
	}

	// The usable starts, earliest first; ties keep the caller's order.
	type cand struct {
		CandidateStart
		left int
	}
	var cands []cand
	for i, s := range starts {
		if _, ok := parseDate(s.Date); !ok {
			return RosterPlacement{}, invalid("starts[%d].date: must be a date YYYY-MM-DD", i)
		}
		if s.Capacity > 0 && window.Contains(s.Date) {
			cands = append(cands, cand{CandidateStart: s, left: s.Capacity})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.Start.Compare(b.Start) })
	byDate := map[string][]int{}
	for i, c := range cands {
		byDate[c.Date] = append(byDate[c.Date], i)
	}
	// next returns the index of the earliest candidate in idx with room,
	// starting at *cur; cursors only move forward because room only shrinks.
	next := func(idx []int, cur *int) int {
		for *cur < len(idx) && cands[idx[*cur]].left <= 0 {
			*cur++
		}
		if *cur == len(idx) {
			return -1
		}
		return idx[*cur]
	}
	all := make([]int, len(cands))
	for i := range all {
		all[i] = i
	}
	allCur := 0
	dateCur := map[string]int{}

	var out RosterPlacement
	seen := make(map[string]bool, len(participants))
	type pending struct {
		index int
		key   string
		p     RosterParticipant
		done  bool
	}
	var todo []pending
	for i, p := range participants {
		un := UnplacedParticipant{Index: i, ExternalID: p.ExternalID}
		if d := checkExternalID(p.ExternalID); d != "" {
			un.Reason, un.Detail = PlacementInvalidParticipant, d
			out.Unplaced = append(out.Unplaced, un)
			continue
		}
		key := ParticipantKey(campaignID, p.ExternalID)
		un.Key = key
		if seen[key] {
			un.Reason = PlacementDuplicate
			out.Unplaced = append(out.Unplaced, un)
			continue
		}
		seen[key] = true
		norm, detail, reason := normalizeParticipant(p)
		if at, ok := booked[key]; ok {
			out.Placed = append(out.Placed, PlacedParticipant{Index: i, Key: key, Participant: norm, RosterStart: at,
				Preferred: norm.PreferredDate != "" && at.Date == norm.PreferredDate, Existing: true})
			continue
		}
		if reason != "" {
			un.Reason, un.Detail = reason, detail
			out.Unplaced = append(out.Unplaced, un)
			continue
		}
		if norm.PreferredDate != "" && !window.Contains(norm.PreferredDate) {
			un.Reason = PlacementOutsideWindow
			out.Unplaced = append(out.Unplaced, un)
			continue
		}
		todo = append(todo, pending{index: i, key: key, p: norm})
	}

	place := func(t *pending, ci int) {
		c := &cands[ci]
		c.left--
		out.Placed = append(out.Placed, PlacedParticipant{Index: t.index, Key: t.key, Participant: t.p,
			RosterStart: RosterStart{Date: c.Date, Start: c.Start}, Preferred: c.Date == t.p.PreferredDate})
		t.done = true
	}
	for i := range todo {
		t := &todo[i]
		if t.p.PreferredDate == "" {
			continue
		}
		cur := dateCur[t.p.PreferredDate]
		ci := next(byDate[t.p.PreferredDate], &cur)
		dateCur[t.p.PreferredDate] = cur
		if ci >= 0 {
			place(t, ci)
		}
	}
	for i := range todo {
		t := &todo[i]
		if t.done {
			continue
		}
		if ci := next(all, &allCur); ci >= 0 {
			place(t, ci)
			continue
		}
		out.Unplaced = append(out.Unplaced, UnplacedParticipant{Index: t.index, Key: t.key, ExternalID: t.p.ExternalID, Reason: PlacementNoCapacity})
	}
	slices.SortFunc(out.Placed, func(a, b PlacedParticipant) int { return cmp.Compare(a.Index, b.Index) })
	slices.SortFunc(out.Unplaced, func(a, b UnplacedParticipant) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

// checkExternalID returns why id cannot be a participant id, or "".
func checkExternalID(id string) string {
	switch {
	case id == "":
		return "externalId: is required"
	case strings.Contains(id, "#") || strings.TrimSpace(id) != id:
		return "externalId: must not contain '#' or surrounding spaces"
	}
	if err := checkText("externalId", id, 128); err != nil {
		return apperr.MessageOf(err)
	}
	return ""
}

// normalizeParticipant trims and checks a participant's contact data and
// preferred date; it returns the normalized participant, or a reason and a
// detail.
func normalizeParticipant(p RosterParticipant) (RosterParticipant, string, PlacementReason) {
	pat := Patient{ID: p.ExternalID, Name: p.Name, Phone: p.Phone, Email: p.Email, Locale: p.Locale}
	err := NormalizePatient(&pat)
	p.Name, p.Phone, p.Email, p.Locale = pat.Name, pat.Phone, pat.Email, pat.Locale
	if err != nil {
		return p, strings.TrimPrefix(apperr.MessageOf(err), "patient."), PlacementInvalidContact
	}
	if p.Phone == "" && p.Email == "" {
		return p, "phone, email: at least one is required", PlacementInvalidContact
	}
	if p.PreferredDate != "" {
		if _, ok := parseDate(p.PreferredDate); !ok {
			return p, "preferredDate: must be a date YYYY-MM-DD", PlacementInvalidParticipant
		}
	}
	return p, "", ""
}
