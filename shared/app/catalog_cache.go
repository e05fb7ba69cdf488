package app

import (
	"context"
	"sync"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// DefaultCatalogCacheTTL is how long a warm container reuses a branch's
// catalog without reading it again (WithCatalogCacheTTL).
const DefaultCatalogCacheTTL = 30 * time.Second

// catalogCache keeps branch catalogs for a warm container. A booking may
// plan on a cached catalog because its transaction checks the catalog
// version it planned on (Guard.CheckCatalog), and on a mismatch Book reads
// the catalog again and plans again; an availability answer may show a
// catalog up to ttl old (a slot it shows that the current catalog no longer
// offers is refused at booking). The use cases' own catalog writes drop the
// branch's entry at once. Catalogs in the cache are shared: never modified.
type catalogCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedCatalog
}

type cachedCatalog struct {
	cat      domain.Catalog
	loadedAt time.Time
}

func (c *catalogCache) get(branchID string, now time.Time) (domain.Catalog, bool) {
	if c == nil || c.ttl <= 0 {
		return domain.Catalog{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[branchID]
	if !ok || now.Sub(e.loadedAt) >= c.ttl || now.Before(e.loadedAt) {
		return domain.Catalog{}, false
	}
	return e.cat, true
}

func (c *catalogCache) put(cat domain.Catalog, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedCatalog{}
	}
	// Keep the newer of two concurrent loads.
	if e, ok := c.entries[cat.Branch.ID]; ok && e.cat.Version > cat.Version {
		return
	}
	c.entries[cat.Branch.ID] = cachedCatalog{cat: cat, loadedAt: now}
}

func (c *catalogCache) drop(branchID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, branchID)
}

// WithCatalogCacheTTL sets how long the catalog of a branch is reused by
// Availability and Book (default DefaultCatalogCacheTTL); d <= 0 turns the
// cache off (every call reads the catalog). It returns s for chaining.
func (s *Service) WithCatalogCacheTTL(d time.Duration) *Service {
	s.catalogs = &catalogCache{ttl: d}
	return s
}

// cachedCatalog returns a branch's catalog, from the cache when fresh
// enough, and one of its services (NOT_FOUND for either).
func (s *Service) cachedCatalog(ctx context.Context, branchID, serviceID string) (domain.Catalog, domain.Service, error) {
	if cat, ok := s.catalogs.get(branchID, s.now()); ok {
		if svc, ok := serviceOf(cat, serviceID); ok {
			return cat, svc, nil
		}
		// A service created since the catalog was cached: read again.
	}
	return s.freshCatalog(ctx, branchID, serviceID)
}

// freshCatalog reads a branch's catalog, caches it and returns it with one
// of its services.
func (s *Service) freshCatalog(ctx context.Context, branchID, serviceID string) (domain.Catalog, domain.Service, error) {
	cat, svc, err := s.catalog(ctx, branchID, serviceID)
	if err == nil || cat.Branch.ID != "" {
		s.catalogs.put(cat, s.now())
	}
	return cat, svc, err
}

func serviceOf(cat domain.Catalog, serviceID string) (domain.Service, bool) {
	for _, svc := range cat.Services {
		if svc.ID == serviceID {
			return svc, true
		}
	}
	return domain.Service{}, false
}
