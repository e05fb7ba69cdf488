// Package memstore is an in-memory implementation of the ports the use cases
// declare (app.Store, app.IntegrationStore, app.IdempotencyStore,
// app.CampaignStore), with the same conditional semantics as shared/dynamo:
// no cell is ever held twice, every change is conditional on the version it
// was decided on, and a change, its history, its events and the idempotency
// completion are written together or not at all. shared/storetest holds the
// contract both stores pass.
//
// It exists so that the use cases can be tested without emulators (go test
// -short); it is not a cache and keeps everything until the process ends.
package memstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/notice"
)

var (
	_ app.Store            = (*Store)(nil)
	_ app.IntegrationStore = (*Store)(nil)
	_ app.IdempotencyStore = (*Store)(nil)
	_ app.CampaignStore    = (*Store)(nil)
	_ app.PatientStore     = (*Store)(nil)
)

// cellKey identifies a cell of a branch (its local date is its partition in
// DynamoDB; here it only follows the same identity).
type cellKey struct {
	branchID, date, resourceID string
	start                      int64
}

// Store is the in-memory store. The zero value is not usable; use New.
// One mutex guards everything: each method is one atomic step, as one
// DynamoDB request or transaction is.
type Store struct {
	mu           sync.Mutex
	branches     map[string]domain.Branch
	hours        map[string]domain.Hours
	resources    map[string]map[string]domain.Resource // branch → id → resource
	services     map[string]map[string]domain.Service
	catalogVer   map[string]int64 // branch → catalog version (0: never written)
	appointments map[string]domain.Appointment
	history      map[string][]domain.HistoryEntry
	cells        map[cellKey]string
	links        map[string]string // lab order → appointment
	outbox       []events.CloudEvent
	outboxIDs    map[string]bool
	idem         map[string]idempotency.Record
	campaigns    map[string]app.Campaign
	participants map[string]map[string]app.CampaignParticipant
	patients     map[string]domain.PatientProfile // nil until the first write
	deliveries   map[deliveryKey]notice.Delivery
}

// New returns an empty store.
func New() *Store {
	return &Store{
		branches:     map[string]domain.Branch{},
		hours:        map[string]domain.Hours{},
		resources:    map[string]map[string]domain.Resource{},
		services:     map[string]map[string]domain.Service{},
		catalogVer:   map[string]int64{},
		appointments: map[string]domain.Appointment{},
		history:      map[string][]domain.HistoryEntry{},
		cells:        map[cellKey]string{},
		links:        map[string]string{},
		outboxIDs:    map[string]bool{},
		idem:         map[string]idempotency.Record{},
		campaigns:    map[string]app.Campaign{},
		participants: map[string]map[string]app.CampaignParticipant{},
		deliveries:   map[deliveryKey]notice.Delivery{},
	}
}

// clone returns a deep copy of v through its JSON form, as a store that
// keeps documents returns it (so callers never share memory with the store).
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic("memstore: " + err.Error())
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic("memstore: " + err.Error())
	}
	return out
}

// cloneAppointment also copies the cells, which JSON leaves out.
func cloneAppointment(a domain.Appointment) domain.Appointment {
	out := clone(a)
	out.Cells = slices.Clone(a.Cells)
	return out
}

// PutBranch creates a branch; CONFLICT if the id exists.
func (s *Store) PutBranch(_ context.Context, b domain.Branch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.branches[b.ID]; ok {
		return apperr.E(apperr.Conflict, "branch %s already exists", b.ID)
	}
	s.branches[b.ID] = clone(b)
	return nil
}

// GetBranch returns a branch or NOT_FOUND.
func (s *Store) GetBranch(_ context.Context, id string) (domain.Branch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.branches[id]
	if !ok {
		return domain.Branch{}, apperr.E(apperr.NotFound, "branch %s not found", id)
	}
	return clone(b), nil
}

// ListBranches returns all branches ordered by name (case-insensitively,
// then by id).
func (s *Store) ListBranches(context.Context) ([]domain.Branch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []domain.Branch{}
	for _, b := range s.branches {
		out = append(out, clone(b))
	}
	slices.SortFunc(out, func(x, y domain.Branch) int {
		return strings.Compare(strings.ToLower(x.Name)+"#"+x.ID, strings.ToLower(y.Name)+"#"+y.ID)
	})
	return out, nil
}

// catalogWrite checks that the branch exists (NOT_FOUND) and bumps its
// catalog version, as every catalog write does; s.mu is held.
func (s *Store) catalogWrite(branchID string) error {
	if _, ok := s.branches[branchID]; !ok {
		return apperr.E(apperr.NotFound, "branch %s not found", branchID)
	}
	s.catalogVer[branchID]++
	return nil
}

// PutHours replaces a branch's hours; NOT_FOUND if the branch does not exist.
func (s *Store) PutHours(_ context.Context, branchID string, h domain.Hours) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catalogWrite(branchID); err != nil {
		return err
	}
	s.hours[branchID] = clone(h)
	return nil
}

// GetHours returns a branch's hours, the zero Hours if never set.
func (s *Store) GetHours(_ context.Context, branchID string) (domain.Hours, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hours[branchID]
	if !ok {
		return domain.Hours{}, nil
	}
	return clone(h), nil
}

// PutResource creates or replaces a resource; NOT_FOUND if the branch does
// not exist.
func (s *Store) PutResource(_ context.Context, r domain.Resource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catalogWrite(r.BranchID); err != nil {
		return err
	}
	if s.resources[r.BranchID] == nil {
		s.resources[r.BranchID] = map[string]domain.Resource{}
	}
	s.resources[r.BranchID][r.ID] = clone(r)
	return nil
}

// GetResource returns a resource of a branch or NOT_FOUND.
func (s *Store) GetResource(_ context.Context, branchID, id string) (domain.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.resources[branchID][id]
	if !ok {
		return domain.Resource{}, apperr.E(apperr.NotFound, "resource %s not found", id)
	}
	return clone(r), nil
}

// ListResources returns a branch's resources ordered by id.
func (s *Store) ListResources(_ context.Context, branchID string) ([]domain.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byID(s.resources[branchID], func(r domain.Resource) string { return r.ID }), nil
}

// PutService creates or replaces a service; NOT_FOUND if the branch does
// not exist.
func (s *Store) PutService(_ context.Context, svc domain.Service) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catalogWrite(svc.BranchID); err != nil {
		return err
	}
	if s.services[svc.BranchID] == nil {
		s.services[svc.BranchID] = map[string]domain.Service{}
	}
	s.services[svc.BranchID][svc.ID] = clone(svc)
	return nil
}

// ListServices returns a branch's services ordered by id.
func (s *Store) ListServices(_ context.Context, branchID string) ([]domain.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byID(s.services[branchID], func(v domain.Service) string { return v.ID }), nil
}

// byID returns copies of m's values ordered by id (never nil).
func byID[T any](m map[string]T, id func(T) string) []T {
	out := []T{}
	for _, v := range m {
		out = append(out, clone(v))
	}
	slices.SortFunc(out, func(x, y T) int { return strings.Compare(id(x), id(y)) })
	return out
}

// LoadCatalog returns branch, hours, resources and services (by id) and the
// catalog version;
// NOT_FOUND when the branch does not exist.
func (s *Store) LoadCatalog(_ context.Context, branchID string) (domain.Catalog, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.branches[branchID]
	if !ok {
		return domain.Catalog{}, apperr.E(apperr.NotFound, "branch %s not found", branchID)
	}
	return domain.Catalog{
		Branch:    clone(b),
		Hours:     clone(s.hours[branchID]),
		Resources: byID(s.resources[branchID], func(r domain.Resource) string { return r.ID }),
		Services:  byID(s.services[branchID], func(v domain.Service) string { return v.ID }),
		Version:   s.catalogVer[branchID],
	}, nil
}

// OccupancyRange returns the held cells of a branch on the local dates from
// to to (inclusive); always current here.
func (s *Store) OccupancyRange(_ context.Context, branchID, from, to string) (domain.Occupancy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	occ := domain.Occupancy{}
	for k, id := range s.cells {
		if k.branchID == branchID && k.date >= from && k.date <= to {
			occ[domain.CellKey{ResourceID: k.resourceID, Start: k.start}] = id
		}
	}
	return occ, nil
}

// Occupancy returns the held cells of a branch on the given local dates.
func (s *Store) Occupancy(_ context.Context, branchID string, dates []string) (domain.Occupancy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, d := range dates {
		want[d] = true
	}
	occ := domain.Occupancy{}
	for k, id := range s.cells {
		if k.branchID == branchID && want[k.date] {
			occ[domain.CellKey{ResourceID: k.resourceID, Start: k.start}] = id
		}
	}
	return occ, nil
}
