package memstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/idempotency"
)

// maxTransactItems mirrors DynamoDB's limit of items in one transaction, so
// that a change too large for the real store fails here too.
const maxTransactItems = 100

func keyOf(branchID string, c domain.Cell) cellKey {
	return cellKey{branchID: branchID, date: c.Date, resourceID: c.ResourceID, start: c.Start.Unix()}
}

// GetAppointment returns an appointment or NOT_FOUND.
func (s *Store) GetAppointment(_ context.Context, id string) (domain.Appointment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.appointments[id]
	if !ok {
		return domain.Appointment{}, apperr.E(apperr.NotFound, "appointment %s not found", id)
	}
	return cloneAppointment(a), nil
}

// CreateAppointment writes the appointment, its first history entry, its
// cells, the event (data: a) and the completion of the idempotency claim in
// ctx, if any and not yet Completed (body claim.Render(a)), atomically;
// then sets claim.Completed.
// CONFLICT if the id exists or the claim's record changed, SLOT_UNAVAILABLE
// if a cell is held, VALIDATION_FAILED for a cell taken twice or a change
// beyond 100 items, INTERNAL for an event that is not a valid CloudEvent.
func (s *Store) CreateAppointment(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event) error {
	claim := idempotency.FromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.appointments[a.ID]; ok {
		return apperr.E(apperr.Conflict, "the appointment already exists")
	}
	return s.commit(domain.Appointment{ID: a.ID, BranchID: a.BranchID}, []app.Step{{History: h, Event: ev, State: a}}, nil, claim, nil)
}

// CreateAppointmentGuarded is CreateAppointment that also refuses
// (LIMIT_EXCEEDED) a booking of an Active visit when the patient already
// holds g.MaxUpcoming visits upcoming at g.Now (g.MaxUpcoming > 0), and
// (CONFLICT carrying app.ErrCatalogChanged) one whose g.CatalogVersion is no
// longer the branch's (g.CheckCatalog), checked under the same lock as the
// write, so exactly.
func (s *Store) CreateAppointmentGuarded(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, g app.Guard) error {
	claim := idempotency.FromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.appointments[a.ID]; ok {
		return apperr.E(apperr.Conflict, "the appointment already exists")
	}
	guard := func() error {
		if g.CheckCatalog && s.catalogVer[a.BranchID] != g.CatalogVersion {
			return &apperr.Error{Code: apperr.Conflict, Message: "the branch's catalog changed; retry", Err: app.ErrCatalogChanged}
		}
		if g.MaxUpcoming <= 0 || a.Patient.ID == "" || !a.Status.Active() {
			return nil
		}
		n := 0
		for _, held := range s.appointments {
			if held.Patient.ID == a.Patient.ID && domain.Upcoming(held, g.Now) {
				n++
			}
		}
		if n >= g.MaxUpcoming {
			return apperr.E(apperr.LimitExceeded, "a patient may hold at most %d upcoming appointments", g.MaxUpcoming)
		}
		return nil
	}
	return s.commit(domain.Appointment{ID: a.ID, BranchID: a.BranchID}, []app.Step{{History: h, Event: ev, State: a}}, nil, claim, guard)
}

// UpdateAppointment implements app.Store.UpdateAppointment with the one
// optimistic-concurrency loop (app.RetryConcurrent). The closure runs
// without the lock (it may read the store, and a concurrent change may
// happen meanwhile, as with DynamoDB); the write then checks the version.
func (s *Store) UpdateAppointment(ctx context.Context, id string, update app.UpdateFunc) (domain.Appointment, error) {
	var out domain.Appointment
	var decided error
	err := app.RetryConcurrent(ctx, func() error {
		prev, err := s.GetAppointment(ctx, id)
		if err != nil {
			return err
		}
		c, err := update(cloneAppointment(prev))
		if err != nil {
			decided = err
			return nil
		}
		if len(c.Steps) == 0 {
			out = prev
			return nil
		}
		if err := s.writeChange(ctx, prev, c); err != nil {
			return err
		}
		out = cloneAppointment(c.Steps[len(c.Steps)-1].State)
		return nil
	})
	if decided != nil {
		return domain.Appointment{}, decided
	}
	if err != nil {
		return domain.Appointment{}, err
	}
	return out, nil
}

// writeChange writes c over prev if the stored appointment is still at
// prev.Version (CONFLICT otherwise), as dynamo's writeChange does.
func (s *Store) writeChange(ctx context.Context, prev domain.Appointment, c app.Change) error {
	for i, st := range c.Steps {
		if v := prev.Version + 1 + i; st.State.Version != v || st.State.ID != prev.ID || st.State.BranchID != prev.BranchID {
			return apperr.Wrap(fmt.Errorf("step %d is version %d of %s@%s, want %d of %s@%s", i, st.State.Version, st.State.ID, st.State.BranchID, v, prev.ID, prev.BranchID),
				"memstore: update appointment %s: id and branch must not change and each step is the next version", prev.ID)
		}
	}
	claim := idempotency.FromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.appointments[prev.ID]; !ok || cur.Version != prev.Version {
		return apperr.E(apperr.Conflict, "the appointment was changed by another request; reload and retry")
	}
	for _, l := range c.Links {
		if _, ok := s.links[l.LabOrderID]; ok {
			return apperr.E(apperr.Conflict, "the appointment was changed by another request; reload and retry")
		}
	}
	// c.Anonymized is storage bookkeeping (dynamo's anonymizedAt) that no
	// port reads back: nothing to keep here.
	return s.commit(prev, c.Steps, c.Links, claim, nil)
}

// commit checks the remaining conditions of a write, and guard's if not nil
// (after the cells', as dynamo orders them), and applies it; s.mu is held. prev is the stored appointment (its cells are released where the
// new state does not hold them); for a creation it has no cells.
func (s *Store) commit(prev domain.Appointment, steps []app.Step, links []app.LabOrderLink, claim *idempotency.Claim, guard func() error) error {
	if len(steps) == 0 {
		return apperr.Wrap(fmt.Errorf("no steps"), "memstore: update appointment %s", prev.ID)
	}
	next := steps[len(steps)-1].State
	items := 1 + len(links)
	var ces []events.CloudEvent
	for _, st := range steps {
		items++ // history
		if st.Event.ID == "" {
			continue
		}
		ev := st.Event
		ev.Data = st.State
		ce, err := events.New(ev, "")
		if errors.Is(err, events.ErrTooLarge) {
			return err // LIMIT_EXCEEDED, refused before anything changes
		}
		if err != nil {
			return apperr.Wrap(err, "memstore: encode outbox record of %s", next.ID)
		}
		ces = append(ces, ce)
		items++
	}
	old := map[cellKey]bool{}
	for _, c := range prev.Cells {
		old[keyOf(prev.BranchID, c)] = true
	}
	keep := map[cellKey]bool{}
	var take []cellKey
	for _, c := range next.Cells {
		k := keyOf(next.BranchID, c)
		if keep[k] {
			return apperr.E(apperr.Validation, "appointment takes cell %s %s twice", c.ResourceID, c.Start.Format(time.RFC3339))
		}
		keep[k] = true
		if !old[k] {
			take = append(take, k)
		}
	}
	var release []cellKey
	for k := range old {
		if !keep[k] {
			release = append(release, k)
		}
	}
	items += len(take) + len(release)
	complete := claim != nil && !claim.Completed
	if complete {
		items++
	}
	if items > maxTransactItems {
		return apperr.E(apperr.Validation, "the change needs %d writes, more than the %d of one transaction", items, maxTransactItems)
	}
	// The conditions, in dynamo's order of precedence.
	var body []byte
	if complete {
		r, ok := s.idem[claim.Key]
		if !ok || r.Status != idempotency.StatusInProgress || r.Hash != claim.Hash {
			return apperr.E(apperr.Conflict, "idempotency record changed")
		}
		if claim.Render == nil {
			return apperr.E(apperr.Internal, "memstore: idempotency claim %s carries no response renderer", claim.Key)
		}
		var err error
		if body, err = claim.Render(next); err != nil {
			return apperr.Wrap(err, "memstore: render response body")
		}
	}
	for _, k := range take {
		if _, held := s.cells[k]; held {
			return apperr.E(apperr.SlotUnavailable, "the requested time is no longer available")
		}
	}
	if guard != nil {
		if err := guard(); err != nil {
			return err
		}
	}
	for _, ce := range ces {
		if s.outboxIDs[ce.ID] {
			return apperr.E(apperr.Conflict, "the event id is already used; retry")
		}
	}
	for _, k := range release {
		if s.cells[k] != prev.ID {
			return apperr.E(apperr.Conflict, "the appointment was changed by another request; reload and retry")
		}
	}

	s.appointments[next.ID] = cloneAppointment(next)
	for _, st := range steps {
		s.history[next.ID] = append(s.history[next.ID], clone(st.History))
	}
	for _, k := range release {
		delete(s.cells, k)
	}
	for _, k := range take {
		s.cells[k] = next.ID
	}
	for _, l := range links {
		s.links[l.LabOrderID] = l.AppointmentID
	}
	for _, ce := range ces {
		s.outboxIDs[ce.ID] = true
		s.outbox = append(s.outbox, ce)
	}
	if complete {
		s.completeLocked(claim, claim.SuccessStatus, body)
	}
	return nil
}

// LabOrderAppointment returns the id of the appointment a lab order is
// linked to, or NOT_FOUND.
func (s *Store) LabOrderAppointment(_ context.Context, labOrderID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.links[labOrderID]
	if !ok {
		return "", apperr.E(apperr.NotFound, "lab order %s is not linked", labOrderID)
	}
	return id, nil
}

// History returns an appointment's history, oldest first (empty if none).
func (s *Store) History(_ context.Context, appointmentID string) ([]domain.HistoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []domain.HistoryEntry{}
	for _, h := range s.history[appointmentID] {
		out = append(out, clone(h))
	}
	return out, nil
}

// PendingOutbox returns up to limit recorded events created before
// olderThan, oldest first (limit <= 0: 50). Nothing here publishes them, so
// every recorded event stays pending.
func (s *Store) PendingOutbox(_ context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error) {
	if limit <= 0 {
		limit = 50
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []events.CloudEvent{}
	for _, ce := range s.outbox {
		if ce.Time.Before(olderThan) {
			out = append(out, ce)
		}
	}
	slices.SortStableFunc(out, func(x, y events.CloudEvent) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out[:min(limit, len(out))], nil
}

// ListAppointmentsByBranchDay lists a branch's appointments starting on a
// local date, ordered by start (then id). VALIDATION_FAILED for a malformed
// cursor or one from another list.
func (s *Store) ListAppointmentsByBranchDay(_ context.Context, branchID, date string, limit int, cursor string) (app.Page[domain.Appointment], error) {
	return s.list("BRDAY#"+branchID+"#"+date, limit, cursor, func(a domain.Appointment) bool {
		return a.BranchID == branchID && a.Start.Format(time.DateOnly) == date
	})
}

// ListAppointmentsByPatient lists a patient's appointments ordered by start
// (then id). VALIDATION_FAILED for a malformed cursor or one from another
// list.
func (s *Store) ListAppointmentsByPatient(_ context.Context, patientID string, limit int, cursor string) (app.Page[domain.Appointment], error) {
	return s.list("PATIENT#"+patientID, limit, cursor, func(a domain.Appointment) bool { return a.Patient.ID == patientID })
}

func sortKey(a domain.Appointment) string {
	return a.Start.UTC().Format("2006-01-02T15:04:05Z") + "#" + a.ID
}

// list pages the appointments that match, ordered by sortKey. The cursor is
// the list's key and the last sort key returned, so that a cursor of
// another list is refused.
func (s *Store) list(listKey string, limit int, cursor string, match func(domain.Appointment) bool) (app.Page[domain.Appointment], error) {
	after := ""
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		k, sk, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok || k != listKey || sk == "" {
			return app.Page[domain.Appointment]{}, apperr.E(apperr.Validation, "cursor: malformed or from another list")
		}
		after = sk
	}
	if limit <= 0 {
		limit = 50
	}
	s.mu.Lock()
	var all []domain.Appointment
	for _, a := range s.appointments {
		if match(a) && sortKey(a) > after {
			all = append(all, cloneAppointment(a))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(x, y domain.Appointment) int { return strings.Compare(sortKey(x), sortKey(y)) })
	page := app.Page[domain.Appointment]{Items: []domain.Appointment{}}
	if len(all) > limit {
		all = all[:limit]
		page.Cursor = base64.RawURLEncoding.EncodeToString([]byte(listKey + "\x00" + sortKey(all[limit-1])))
	}
	page.Items = append(page.Items, all...)
	return page, nil
}
