package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/idempotency"
)

// Begin stores rec unless a live record exists: one that is unexpired
// (ExpiresAt, to the second, not before now) and either COMPLETED or
// INPROGRESS with InProgressUntil (to the millisecond) not before now. It
// then returns a copy of that record and no error.
func (s *Store) Begin(_ context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.idem[rec.Key]; ok && live(old, now) {
		old.Body = slices.Clone(old.Body)
		return &old, nil
	}
	rec.Body = slices.Clone(rec.Body)
	s.idem[rec.Key] = rec
	return nil, nil
}

// live is dynamo's condition for refusing a new claim, at its precision.
func live(r idempotency.Record, now time.Time) bool {
	if r.ExpiresAt.Unix() < now.Unix() {
		return false
	}
	return r.Status != idempotency.StatusInProgress || r.InProgressUntil.UnixMilli() >= now.UnixMilli()
}

// Complete stores the outcome of a claim and sets c.Completed; CONFLICT
// ("idempotency record changed") if the record is no longer this request's
// INPROGRESS record (same hash).
func (s *Store) Complete(_ context.Context, c *idempotency.Claim, statusCode int, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[c.Key]
	if !ok || r.Status != idempotency.StatusInProgress || r.Hash != c.Hash {
		return apperr.E(apperr.Conflict, "idempotency record changed")
	}
	s.completeLocked(c, statusCode, body)
	return nil
}

// completeLocked completes c's record (checked by the caller; s.mu held).
func (s *Store) completeLocked(c *idempotency.Claim, statusCode int, body []byte) {
	r := s.idem[c.Key]
	r.Status, r.StatusCode, r.Body = idempotency.StatusCompleted, statusCode, slices.Clone(body)
	if len(body) == 0 {
		r.Body = nil
	}
	if !c.ExpiresAt.IsZero() {
		r.ExpiresAt = c.ExpiresAt
	}
	s.idem[c.Key] = r
	c.Completed = true
}

// Release deletes the claim's own INPROGRESS record (same InProgressUntil,
// to the millisecond); a record that is absent, COMPLETED or another
// claim's is left alone, and no error returned.
func (s *Store) Release(_ context.Context, c *idempotency.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.idem[c.Key]; ok && r.Status == idempotency.StatusInProgress && r.InProgressUntil.UnixMilli() == c.InProgressUntil.UnixMilli() {
		delete(s.idem, c.Key)
	}
	return nil
}

// IdempotencyRecord returns the stored record of key, if any (a copy), so
// that tests can see what a use case left behind.
func (s *Store) IdempotencyRecord(key string) (idempotency.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[key]
	r.Body = slices.Clone(r.Body)
	return r, ok
}
