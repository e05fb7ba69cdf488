package domain

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

// SampleStatus is the state of one specimen in the laboratory information
// system (LIS).
type SampleStatus string

// Sample statuses. A sample moves forward only: collected < received <
// in_progress < resulted. Rejected and recollect_required end the sample (it
// never leaves them) and mean a new sample must be taken; they may follow any
// other status, resulted included.
const (
	SampleCollected         SampleStatus = "collected"
	SampleReceived          SampleStatus = "received"
	SampleInProgress        SampleStatus = "in_progress"
	SampleResulted          SampleStatus = "resulted"
	SampleRejected          SampleStatus = "rejected"
	SampleRecollectRequired SampleStatus = "recollect_required"
)

// SampleStatuses returns every sample status, in forward order.
func SampleStatuses() []SampleStatus {
	return []SampleStatus{SampleCollected, SampleReceived, SampleInProgress, SampleResulted, SampleRejected, SampleRecollectRequired}
}

// rank orders statuses: a sample only moves to a higher rank. The two
// terminal statuses share the highest rank.
func (s SampleStatus) rank() int {
	switch s {
	case SampleCollected:
		return 1
	case SampleReceived:
		return 2
	case SampleInProgress:
		return 3
	case SampleResulted:
		return 4
	case SampleRejected, SampleRecollectRequired:
		return 5
	}
	return 0
}

// Valid reports whether s is one of the six sample statuses.
func (s SampleStatus) Valid() bool { return s.rank() > 0 }

// Terminal reports whether s ends the sample: rejected or recollect_required.
func (s SampleStatus) Terminal() bool { return s.rank() == 5 }

// NeedsRecollection reports whether s means a new sample must be taken; the
// terminal statuses do.
func (s SampleStatus) NeedsRecollection() bool { return s.Terminal() }

// Sample is one specimen of a lab order, as last reported by the LIS.
type Sample struct {
	ID     string       `json:"id"`
	Status SampleStatus `json:"status"`
	// UpdatedAt is the occurredAt of the event that set the current state.
	UpdatedAt time.Time `json:"updatedAt"`
	// Sequence is that event's LIS sequence number, 0 if it had none.
	Sequence int64  `json:"sequence,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// LabOrder is an LIS order linked to an appointment, with its samples.
type LabOrder struct {
	ID            string `json:"id"`
	AppointmentID string `json:"appointmentId"`
	// Samples are sorted by ID.
	Samples []Sample `json:"samples"`
	// RecollectionNeeded is true once any sample is rejected or
	// recollect_required (terminal, so it stays true).
	RecollectionNeeded bool `json:"recollectionNeeded"`
}

// MaxSamplesPerLabOrder bounds LabOrder.Samples, which is stored with the
// appointment.
const MaxSamplesPerLabOrder = 50

// SampleEvent is an LIS sample status change in domain terms (see
// shared/messages for the wire form).
type SampleEvent struct {
	EventID       string
	OccurredAt    time.Time
	AppointmentID string // "" when the event does not carry it
	LabOrderID    string
	SampleID      string
	Status        SampleStatus
	Reason        string
	Sequence      int64 // 0 when the event has none
}

// LabEffect is what the caller must do besides storing the new LabOrder. It
// is zero when nothing changed.
type LabEffect struct {
	// Linked: this event linked the lab order to AppointmentID (the first
	// event carrying both ids).
	Linked bool
	// SampleID is the sample the event changed; From is its status before
	// ("" for a sample seen for the first time) and To after. From == To when
	// only the details (sequence, reason, time) of the sample changed.
	SampleID string
	From, To SampleStatus
	// CompleteAppointment: the first sample of the order was reported, so the
	// patient has been sampled; a booked or checked_in appointment moves to
	// completed (see CompletionSteps). Set once per lab order.
	CompleteAppointment bool
	// RecollectionNeeded: the sample just became rejected or
	// recollect_required ("recollection needed" notification).
	RecollectionNeeded bool
	// ResultsReady: the sample just became resulted and every sample of the
	// order is now resulted ("results ready" notification).
	ResultsReady bool
}

// ErrLabOrderNotLinked is wrapped (as the Err of a NOT_FOUND apperr.Error) by
// ApplySampleEvent for an event without appointmentId on a lab order that no
// event has linked to an appointment yet. It is transient: the linking event
// may still be on its way, so the consumer retries (and after maxReceiveCount
// SQS dead-letters the message).
var ErrLabOrderNotLinked = errors.New("lab order not linked to an appointment")

// ApplySampleEvent applies one LIS event to a lab order (the zero LabOrder for
// an order seen for the first time) and returns the new order, whether it
// changed, and what else the caller must do.
//
// Each sample only moves forward, and the result does not depend on the order
// in which events arrive: of all the events of a sample, the one that wins is
// the highest status in forward order; between events of equal rank (the same
// status repeated, or rejected vs recollect_required) the higher sequence
// wins when both carry one, else the later occurredAt, else a fixed
// tie-break. A sequence never moves a status backwards: an LIS that reports
// in_progress again after resulted leaves the sample resulted. Stale,
// duplicate and out-of-order events therefore return changed == false or move
// the sample forward; they are never an error.
//
// Linking: the first event carrying both appointmentId and labOrderId links
// them; later events may omit appointmentId. Errors:
//   - NOT_FOUND wrapping ErrLabOrderNotLinked: the order is not linked and the
//     event has no appointmentId (transient);
//   - VALIDATION_FAILED wrapping ErrContradiction: the event names another
//     appointment than the one the order is linked to (permanent);
//   - LIMIT_EXCEEDED: a new sample beyond MaxSamplesPerLabOrder (permanent);
//   - VALIDATION_FAILED: a malformed event (missing ids or time, unknown
//     status, another lab order id).
func ApplySampleEvent(o LabOrder, ev SampleEvent) (LabOrder, bool, LabEffect, error) {
	switch {
	case ev.EventID == "":
		return o, false, LabEffect{}, invalid("eventId: is required")
	case ev.LabOrderID == "":
		return o, false, LabEffect{}, invalid("labOrderId: is required")
	case ev.SampleID == "":
		return o, false, LabEffect{}, invalid("sampleId: is required")
	case !ev.Status.Valid():
		return o, false, LabEffect{}, invalid("status: must be one of collected, received, in_progress, resulted, rejected, recollect_required")
	case ev.OccurredAt.IsZero():
		return o, false, LabEffect{}, invalid("occurredAt: is required")
	case ev.Sequence < 0:
		return o, false, LabEffect{}, invalid("sequence: must not be negative")
	case o.ID != "" && o.ID != ev.LabOrderID:
		return o, false, LabEffect{}, invalid("labOrderId: the event is for another lab order")
	}
	var eff LabEffect
	n := o
	n.ID = ev.LabOrderID
	switch {
	case o.AppointmentID == "" && ev.AppointmentID == "":
		e := apperr.E(apperr.NotFound, "labOrderId: the lab order is not linked to an appointment yet")
		e.Err = ErrLabOrderNotLinked
		return o, false, LabEffect{}, e
	case o.AppointmentID == "":
		n.AppointmentID = ev.AppointmentID
		eff.Linked = true
	case ev.AppointmentID != "" && ev.AppointmentID != o.AppointmentID:
		e := apperr.E(apperr.Validation, "appointmentId: the lab order is linked to another appointment")
		e.Err = ErrContradiction
		return o, false, LabEffect{}, e
	}

	next := Sample{ID: ev.SampleID, Status: ev.Status, UpdatedAt: ev.OccurredAt, Sequence: ev.Sequence, Reason: ev.Reason}
	i, found := slices.BinarySearchFunc(o.Samples, ev.SampleID, func(s Sample, id string) int { return strings.Compare(s.ID, id) })
	switch {
	case !found:
		if len(o.Samples) >= MaxSamplesPerLabOrder {
			return o, false, LabEffect{}, apperr.E(apperr.LimitExceeded, "sampleId: a lab order has at most %d samples", MaxSamplesPerLabOrder)
		}
		n.Samples = slices.Insert(slices.Clone(o.Samples), i, next)
		eff.CompleteAppointment = len(o.Samples) == 0
	case supersedes(next, o.Samples[i]):
		eff.From = o.Samples[i].Status
		n.Samples = slices.Clone(o.Samples)
		n.Samples[i] = next
	default:
		if !eff.Linked {
			return o, false, LabEffect{}, nil // stale or duplicate
		}
		return n, true, LabEffect{Linked: true}, nil
	}
	eff.SampleID, eff.To = next.ID, next.Status
	n.RecollectionNeeded = slices.ContainsFunc(n.Samples, func(s Sample) bool { return s.Status.NeedsRecollection() })
	eff.RecollectionNeeded = next.Status.NeedsRecollection() && eff.From != next.Status
	eff.ResultsReady = next.Status == SampleResulted && eff.From != SampleResulted &&
		!slices.ContainsFunc(n.Samples, func(s Sample) bool { return s.Status != SampleResulted })
	return n, true, eff, nil
}

// supersedes reports whether the state an event would give a sample, e, wins
// over the sample's current state, s (see ApplySampleEvent). It is a strict
// total order on states when sequences are either always or never present,
// which makes the final state independent of arrival order.
func supersedes(e, s Sample) bool {
	if re, rs := e.Status.rank(), s.Status.rank(); re != rs {
		return re > rs
	}
	if e.Sequence > 0 && s.Sequence > 0 && e.Sequence != s.Sequence {
		return e.Sequence > s.Sequence
	}
	if !e.UpdatedAt.Equal(s.UpdatedAt) {
		return e.UpdatedAt.After(s.UpdatedAt)
	}
	// Same rank, same time, same or missing sequences: a fixed tie-break
	// (recollect_required over rejected, then the longer-known details).
	if e.Status != s.Status {
		return e.Status == SampleRecollectRequired
	}
	if e.Sequence != s.Sequence {
		return e.Sequence > s.Sequence
	}
	return e.Reason > s.Reason
}

// CompletionSteps returns the lifecycle steps that take an appointment in
// status from to completed when its samples have been taken: booked →
// checked_in → completed, checked_in → completed. Any other status (already
// completed, cancelled, no_show) gives nil: the caller changes nothing.
func CompletionSteps(from Status) []Status {
	switch from {
	case StatusBooked:
		return []Status{StatusCheckedIn, StatusCompleted}
	case StatusCheckedIn:
		return []Status{StatusCompleted}
	}
	return nil
}
