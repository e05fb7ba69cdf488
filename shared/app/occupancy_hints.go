package app

import (
	"maps"
	"sync"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// occupancyHintTTL bounds how long a container trusts what it last saw of a
// branch-day's cells when it picks a booking's first candidate.
const occupancyHintTTL = 2 * time.Minute

// occupancyHints is what a warm container last saw of the cells of a
// branch-day: the last strongly consistent read, plus the cells of the
// bookings it made since. Book plans its first candidate on it, without a
// read, so that a container filling a slot does not keep picking stations it
// has just taken itself. A hint is never trusted for a decision: a cell it
// wrongly shows free fails the booking transaction's condition, and a plan
// it makes impossible (cells it wrongly shows held) is planned again on a
// fresh read before any refusal.
type occupancyHints struct {
	mu      sync.Mutex
	entries map[string]occupancyHint
}

type occupancyHint struct {
	occ domain.Occupancy
	at  time.Time
}

func hintKey(branchID, date string) string { return branchID + "\x00" + date }

// get returns a copy of the hint of a branch-day (empty if none or stale).
func (h *occupancyHints) get(branchID, date string, now time.Time) domain.Occupancy {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.entries[hintKey(branchID, date)]
	if !ok || now.Sub(e.at) >= occupancyHintTTL || now.Before(e.at) {
		return domain.Occupancy{}
	}
	return maps.Clone(e.occ)
}

// put replaces the hint of a branch-day with a fresh read, and forgets
// stale hints.
func (h *occupancyHints) put(branchID, date string, occ domain.Occupancy, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.entries == nil {
		h.entries = map[string]occupancyHint{}
	}
	for k, e := range h.entries {
		if now.Sub(e.at) >= occupancyHintTTL || now.Before(e.at) {
			delete(h.entries, k)
		}
	}
	h.entries[hintKey(branchID, date)] = occupancyHint{occ: maps.Clone(occ), at: now}
}

// took adds the cells of a booking this container made to the hint of its
// branch-day, if there is one still fresh (else it starts one).
func (h *occupancyHints) took(a domain.Appointment, date string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.entries == nil {
		h.entries = map[string]occupancyHint{}
	}
	k := hintKey(a.BranchID, date)
	e, ok := h.entries[k]
	if !ok || now.Sub(e.at) >= occupancyHintTTL || now.Before(e.at) {
		e = occupancyHint{occ: domain.Occupancy{}, at: now}
	}
	for _, c := range a.Cells {
		e.occ[domain.CellKey{ResourceID: c.ResourceID, Start: c.Start.Unix()}] = a.ID
	}
	h.entries[k] = e
}
