package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/notice"
)

// deliveryKey identifies a delivery: one (job, channel) of an appointment.
type deliveryKey struct {
	appointmentID, jobID string
	channel              notice.Channel
}

func deliveryKeyOf(d notice.Delivery) deliveryKey {
	return deliveryKey{appointmentID: d.AppointmentID, jobID: d.JobID, channel: d.Channel}
}

// ClaimDelivery writes d unless its delivery exists and is not a Sending
// claim whose lease (to the millisecond) ended before now; it then returns
// false and the delivery as stored. A take-over keeps the delivery's
// CreatedAt, Attempts and ProviderMessageID; a new delivery starts with 0
// attempts (d.Attempts is not written). A Sending claim keeps d.LeaseUntil,
// a final status has none.
func (s *Store) ClaimDelivery(_ context.Context, d notice.Delivery, now time.Time) (bool, notice.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKeyOf(d)
	old, exists := s.deliveries[k]
	if exists && !(old.Status == notice.StatusSending && old.LeaseUntil.UnixMilli() < now.UnixMilli()) {
		return false, old, nil
	}
	next := d
	next.CreatedAt, next.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	next.Attempts, next.ProviderMessageID = 0, ""
	if exists {
		next.CreatedAt, next.Attempts, next.ProviderMessageID = old.CreatedAt, old.Attempts, old.ProviderMessageID
	}
	next.LeaseUntil = time.Time{}
	if d.Status == notice.StatusSending {
		next.LeaseUntil = time.UnixMilli(d.LeaseUntil.UnixMilli()).UTC()
	}
	s.deliveries[k] = next
	return true, next, nil
}

// FinishDelivery stores a delivery's final state (status, attempts, provider
// message id, reason, UpdatedAt; no lease) if it is still Sending; CONFLICT
// otherwise (also when it does not exist).
func (s *Store) FinishDelivery(_ context.Context, d notice.Delivery) error {
	return s.updateInFlight(d, func(cur *notice.Delivery) {
		cur.Status, cur.ProviderMessageID, cur.LeaseUntil = d.Status, d.ProviderMessageID, time.Time{}
	})
}

// ReleaseDelivery stores a delivery's attempts, reason, UpdatedAt and lease
// end (d.LeaseUntil), still Sending, if it is still Sending; CONFLICT
// otherwise.
func (s *Store) ReleaseDelivery(_ context.Context, d notice.Delivery) error {
	return s.updateInFlight(d, func(cur *notice.Delivery) {
		cur.LeaseUntil = time.UnixMilli(d.LeaseUntil.UnixMilli()).UTC()
	})
}

func (s *Store) updateInFlight(d notice.Delivery, set func(*notice.Delivery)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := deliveryKeyOf(d)
	cur, ok := s.deliveries[k]
	if !ok || cur.Status != notice.StatusSending {
		return apperr.E(apperr.Conflict, "delivery %s/%s is no longer in flight", d.JobID, d.Channel)
	}
	cur.Attempts, cur.Reason, cur.UpdatedAt = d.Attempts, d.Reason, d.UpdatedAt.UTC()
	set(&cur)
	s.deliveries[k] = cur
	return nil
}

// ListDeliveries returns an appointment's deliveries, oldest first (by
// CreatedAt, then channel).
func (s *Store) ListDeliveries(_ context.Context, appointmentID string) ([]notice.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []notice.Delivery{}
	for k, d := range s.deliveries {
		if k.appointmentID == appointmentID {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, k int) bool {
		if !out[i].CreatedAt.Equal(out[k].CreatedAt) {
			return out[i].CreatedAt.Before(out[k].CreatedAt)
		}
		if out[i].Channel != out[k].Channel {
			return out[i].Channel < out[k].Channel
		}
		return out[i].JobID < out[k].JobID
	})
	return out, nil
}
