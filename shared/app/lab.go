package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/ids"
)

// MaxLabOrdersPerAppointment bounds Appointment.LabOrders, which is stored
// with the appointment.
const MaxLabOrdersPerAppointment = 20

// MaxBillingPerAppointment bounds Appointment.Billing, which is stored with
// the appointment.
const MaxBillingPerAppointment = 20

// MaxSamplesPerAppointment bounds the samples of all lab orders of an
// appointment, and MaxRefundsPerAppointment the refunds of all its orders.
// With the per-order limits alone (20 × 50 each) an appointment's event
// could outgrow what a queue message carries (events.MaxEventBytes), be
// committed and never be published; with these its largest event stays
// under half of it (shared/app/eventsize_test.go).
const (
	MaxSamplesPerAppointment = 200
	MaxRefundsPerAppointment = 200
)

// countSamples returns how many samples the lab orders hold in all.
func countSamples(orders []domain.LabOrder) int {
	n := 0
	for _, o := range orders {
		n += len(o.Samples)
	}
	return n
}

// countRefunds returns how many refunds the orders hold in all.
func countRefunds(orders []domain.Billing) int {
	n := 0
	for _, b := range orders {
		n += len(b.Refunds)
	}
	return n
}

// Actors of the integrations, as recorded in history.
var (
	// ActorLIS is the laboratory information system.
	ActorLIS = domain.ActorRef{ID: "lis", Role: domain.RoleSystem}
	// ActorPOS is the point-of-sale system.
	ActorPOS = domain.ActorRef{ID: "pos", Role: domain.RoleSystem}
)

// Integrations are the use cases of the inbound integrations (LIS sample
// statuses, POS orders). They are driven by other systems, not by a user, so
// they take no Actor: the queue's access policy is the authorization.
type Integrations struct {
	store IntegrationStore
	now   func() time.Time
	newID func(prefix string) string
}

// NewIntegrations builds the integration use cases over a store and a clock
// (nil: time.Now).
func NewIntegrations(store IntegrationStore, now func() time.Time) *Integrations {
	if now == nil {
		now = time.Now
	}
	return &Integrations{store: store, now: now, newID: ids.New}
}

func (s *Integrations) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// ApplySampleStatus applies one LIS sample status change to the appointment
// of its lab order (domain.ApplySampleEvent): samples only move forward, so
// a stale, duplicate or out-of-order event changes nothing and returns nil.
// The first event carrying both ids links the lab order to the appointment
// (a lookup item written in the same transaction). A change is one history
// entry by ActorLIS and one event (appointment.recollection_needed,
// appointment.results_ready or appointment.sample_status_changed); the first
// sample of a lab order also completes a booked or checked_in visit
// (domain.CompletionSteps, one history entry and event per step), all in one
// transaction conditional on the appointment's version.
//
// Errors (classed by apperr.Classify): NOT_FOUND for an unknown
// appointment or a lab order not linked yet (transient: the booking or the
// linking event may still be on its way); VALIDATION_FAILED wrapping
// domain.ErrContradiction for a lab order linked to another appointment;
// LIMIT_EXCEEDED beyond MaxLabOrdersPerAppointment or the samples' limits
// (per order, MaxSamplesPerAppointment in all);
// CONFLICT when concurrent changes kept winning.
func (s *Integrations) ApplySampleStatus(ctx context.Context, ev domain.SampleEvent) error {
	apptID, linked, err := s.labOrderAppointment(ctx, ev)
	if err != nil {
		return err
	}
	_, err = s.store.UpdateAppointment(ctx, apptID, func(a domain.Appointment) (Change, error) {
		return s.sampleChange(a, ev, linked)
	})
	if apperr.Is(err, apperr.Conflict) {
		// The lab order may have been linked meanwhile, to this appointment
		// or another: decide again from the link, once.
		if apptID, linked, err = s.labOrderAppointment(ctx, ev); err != nil {
			return err
		}
		_, err = s.store.UpdateAppointment(ctx, apptID, func(a domain.Appointment) (Change, error) {
			return s.sampleChange(a, ev, linked)
		})
	}
	return err
}

// sampleChange decides the change of ApplySampleStatus on appointment a (the
// one the lab order is linked to if linked, else the event's).
func (s *Integrations) sampleChange(a domain.Appointment, ev domain.SampleEvent, linked bool) (Change, error) {
	i := slices.IndexFunc(a.LabOrders, func(o domain.LabOrder) bool { return o.ID == ev.LabOrderID })
	var o domain.LabOrder
	if i >= 0 {
		o = a.LabOrders[i]
	} else {
		if len(a.LabOrders) >= MaxLabOrdersPerAppointment {
			return Change{}, apperr.E(apperr.LimitExceeded, "labOrderId: an appointment has at most %d lab orders", MaxLabOrdersPerAppointment)
		}
		if linked {
			// The lookup exists but the order is not on the appointment
			// (never written apart, so only after a manual repair): the
			// order starts empty, linked to the lookup's appointment.
			o.AppointmentID = a.ID
		}
	}
	n, changed, eff, err := domain.ApplySampleEvent(o, ev)
	if err != nil || !changed {
		return Change{}, err // stale or duplicate: acknowledged, nothing goes backwards
	}
	now := s.clock()
	state := a
	state.LabOrders = slices.Clone(a.LabOrders)
	if i >= 0 {
		state.LabOrders[i] = n
	} else {
		state.LabOrders = append(state.LabOrders, n)
	}
	if total := countSamples(state.LabOrders); total > MaxSamplesPerAppointment && total > countSamples(a.LabOrders) {
		return Change{}, apperr.E(apperr.LimitExceeded, "sampleId: an appointment has at most %d samples in all its lab orders", MaxSamplesPerAppointment)
	}
	evType := domain.EventAppointmentSampleStatusChanged
	switch {
	case eff.RecollectionNeeded:
		evType = domain.EventAppointmentRecollectionNeeded
	case eff.ResultsReady:
		evType = domain.EventAppointmentResultsReady
	}
	reason := fmt.Sprintf("LIS: lab order %s linked", n.ID)
	if eff.SampleID != "" {
		reason = fmt.Sprintf("LIS: lab order %s, sample %s %s", n.ID, eff.SampleID, eff.To)
	}
	c := Change{Steps: []Step{s.step(&state, now, a.Status, ActorLIS, reason, evType)}}
	if eff.CompleteAppointment {
		for _, to := range domain.CompletionSteps(a.Status) {
			t, _ := domain.StatusEventType(to)
			c.Steps = append(c.Steps, s.step(&state, now, to, ActorLIS, fmt.Sprintf("LIS: first sample of lab order %s taken", n.ID), t))
		}
	}
	if eff.Linked {
		c.Links = append(c.Links, LabOrderLink{LabOrderID: n.ID, AppointmentID: a.ID})
	}
	return c, nil
}

// labOrderAppointment returns the appointment an event is for: the one its
// lab order is linked to (linked == true), else the event's appointmentId,
// else NOT_FOUND wrapping domain.ErrLabOrderNotLinked.
func (s *Integrations) labOrderAppointment(ctx context.Context, ev domain.SampleEvent) (id string, linked bool, err error) {
	if ev.LabOrderID == "" {
		return "", false, apperr.E(apperr.Validation, "labOrderId: is required")
	}
	id, err = s.store.LabOrderAppointment(ctx, ev.LabOrderID)
	switch {
	case err == nil:
		return id, true, nil
	case !apperr.Is(err, apperr.NotFound):
		return "", false, err
	case ev.AppointmentID == "":
		e := apperr.E(apperr.NotFound, "labOrderId: the lab order is not linked to an appointment yet")
		e.Err = domain.ErrLabOrderNotLinked
		return "", false, e
	}
	return ev.AppointmentID, false, nil
}

// step moves *state to status `to` (or keeps its status) as one new version
// and returns the step that records it.
func (s *Integrations) step(state *domain.Appointment, now time.Time, to domain.Status, actor domain.ActorRef, reason, eventType string) Step {
	from := state.Status
	state.Status, state.Version, state.UpdatedAt = to, state.Version+1, now
	snapshot := *state
	return Step{
		History: domain.HistoryEntry{At: now, From: from, To: to, Actor: actor, Reason: reason, Start: state.Start, End: state.End},
		Event:   domain.AppointmentEvent(s.newID("evt"), eventType, now, snapshot),
		State:   snapshot,
	}
}
