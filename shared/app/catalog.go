package app

import (
	"context"
	"strings"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// CreateBranch creates a branch (admin). VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateBranch(ctx context.Context, actor domain.Actor, in domain.Branch) (domain.Branch, error) {
	if err := adminOnly(actor); err != nil {
		return domain.Branch{}, err
	}
	if err := domain.NormalizeBranch(&in); err != nil {
		return domain.Branch{}, err
	}
	in.ID = s.newID("br")
	in.CreatedAt = s.clock()
	if err := s.store.PutBranch(ctx, in); err != nil {
		return domain.Branch{}, err
	}
	return in, nil
}

// ListBranches lists branches (any authenticated caller).
func (s *Service) ListBranches(ctx context.Context, actor domain.Actor) ([]domain.Branch, error) {
	if err := authenticated(actor); err != nil {
		return nil, err
	}
	bs, err := s.store.ListBranches(ctx)
	if bs == nil {
		bs = []domain.Branch{}
	}
	return bs, err
}

// GetBranch returns a branch (any authenticated caller). NOT_FOUND.
func (s *Service) GetBranch(ctx context.Context, actor domain.Actor, id string) (domain.Branch, error) {
	if err := authenticated(actor); err != nil {
		return domain.Branch{}, err
	}
	return s.branch(ctx, id)
}

func (s *Service) branch(ctx context.Context, id string) (domain.Branch, error) {
	if !validID(id) {
		return domain.Branch{}, notFound("branch", id)
	}
	return s.store.GetBranch(ctx, id)
}

// PutHours replaces a branch's opening hours (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) PutHours(ctx context.Context, actor domain.Actor, branchID string, h domain.Hours) (domain.Hours, error) {
	if err := adminOnly(actor); err != nil {
		return domain.Hours{}, err
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return domain.Hours{}, err
	}
	h = nonNilHours(h)
	for i := range h.Weekly {
		h.Weekly[i].Day = strings.ToLower(strings.TrimSpace(h.Weekly[i].Day))
	}
	if err := domain.ValidateHours(h); err != nil {
		return domain.Hours{}, err
	}
	if err := s.store.PutHours(ctx, branchID, h); err != nil {
		return domain.Hours{}, err
	}
	s.catalogs.drop(branchID)
	return h, nil
}

// GetHours returns a branch's opening hours (any authenticated caller). NOT_FOUND.
func (s *Service) GetHours(ctx context.Context, actor domain.Actor, branchID string) (domain.Hours, error) {
	if err := authenticated(actor); err != nil {
		return domain.Hours{}, err
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return domain.Hours{}, err
	}
	h, err := s.store.GetHours(ctx, branchID)
	return nonNilHours(h), err
}

func nonNilHours(h domain.Hours) domain.Hours {
	if h.Weekly == nil {
		h.Weekly = []domain.DayHours{}
	}
	if h.Closures == nil {
		h.Closures = []domain.Closure{}
	}
	return h
}

// CreateResource adds a resource to a branch (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateResource(ctx context.Context, actor domain.Actor, branchID string, in domain.Resource) (domain.Resource, error) {
	if err := adminOnly(actor); err != nil {
		return domain.Resource{}, err
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return domain.Resource{}, err
	}
	if err := domain.NormalizeResource(&in); err != nil {
		return domain.Resource{}, err
	}
	in.ID = s.newID("res")
	in.BranchID = branchID
	in.Active = true
	in.CreatedAt = s.clock()
	if err := s.store.PutResource(ctx, in); err != nil {
		return domain.Resource{}, err
	}
	s.catalogs.drop(branchID)
	return in, nil
}

// UpdateResource renames, (de)activates or re-hours a resource (admin, staff of
// the branch). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) UpdateResource(ctx context.Context, actor domain.Actor, branchID, resourceID string, p ResourcePatch) (domain.Resource, error) {
	if err := authenticated(actor); err != nil {
		return domain.Resource{}, err
	}
	switch {
	case actor.Role == domain.RolePatient:
		return domain.Resource{}, apperr.E(apperr.Forbidden, "patients may not change resources")
	case !actor.InBranch(branchID):
		return domain.Resource{}, notFound("branch", branchID)
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return domain.Resource{}, err
	}
	if !validID(resourceID) {
		return domain.Resource{}, notFound("resource", resourceID)
	}
	r, err := s.store.GetResource(ctx, branchID, resourceID)
	if err != nil {
		return domain.Resource{}, err
	}
	if p.Name != nil {
		r.Name = *p.Name
	}
	if p.Active != nil {
		r.Active = *p.Active
	}
	if p.Hours != nil {
		r.Hours = *p.Hours
	}
	if err := domain.NormalizeResource(&r); err != nil {
		return domain.Resource{}, err
	}
	if err := s.store.PutResource(ctx, r); err != nil {
		return domain.Resource{}, err
	}
	s.catalogs.drop(branchID)
	return r, nil
}

// ListResources lists a branch's resources (any authenticated caller). NOT_FOUND.
func (s *Service) ListResources(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Resource, error) {
	if err := authenticated(actor); err != nil {
		return nil, err
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return nil, err
	}
	rs, err := s.store.ListResources(ctx, branchID)
	if rs == nil {
		rs = []domain.Resource{}
	}
	return rs, err
}

// CreateService adds a bookable service to a branch (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateService(ctx context.Context, actor domain.Actor, branchID string, in domain.Service) (domain.Service, error) {
	if err := adminOnly(actor); err != nil {
		return domain.Service{}, err
	}
	b, err := s.branch(ctx, branchID)
	if err != nil {
		return domain.Service{}, err
	}
	if err := domain.NormalizeService(&in, b.SlotMinutes); err != nil {
		return domain.Service{}, err
	}
	in.ID = s.newID("svc")
	in.BranchID = branchID
	in.CreatedAt = s.clock()
	if err := s.store.PutService(ctx, in); err != nil {
		return domain.Service{}, err
	}
	s.catalogs.drop(branchID)
	return in, nil
}

// ListServices lists a branch's services (any authenticated caller). NOT_FOUND.
func (s *Service) ListServices(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Service, error) {
	if err := authenticated(actor); err != nil {
		return nil, err
	}
	if _, err := s.branch(ctx, branchID); err != nil {
		return nil, err
	}
	ss, err := s.store.ListServices(ctx, branchID)
	if ss == nil {
		ss = []domain.Service{}
	}
	return ss, err
}

// catalog reads a branch's catalog (not cached) and one of its services.
// On a missing service it returns the catalog with the NOT_FOUND error.
func (s *Service) catalog(ctx context.Context, branchID, serviceID string) (domain.Catalog, domain.Service, error) {
	if !validID(branchID) {
		return domain.Catalog{}, domain.Service{}, notFound("branch", branchID)
	}
	cat, err := s.store.LoadCatalog(ctx, branchID)
	if err != nil {
		return domain.Catalog{}, domain.Service{}, err
	}
	if svc, ok := serviceOf(cat, serviceID); ok {
		return cat, svc, nil
	}
	return cat, domain.Service{}, notFound("service", serviceID)
}
