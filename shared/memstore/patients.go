package memstore

import (
	"context"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// GetPatient implements app.PatientStore.GetPatient.
func (s *Store) GetPatient(_ context.Context, patientID string) (domain.PatientProfile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.patients[patientID]
	if !ok {
		return domain.PatientProfile{}, apperr.E(apperr.NotFound, "no profile for this patient")
	}
	return clone(p), nil
}

// UpdatePatient implements app.PatientStore.UpdatePatient as shared/dynamo
// does: update runs outside the lock on a copy, and the write happens only
// if the profile is still the one read.
func (s *Store) UpdatePatient(_ context.Context, patientID string, update app.PatientUpdateFunc) (domain.PatientProfile, error) {
	for range app.MaxUpdateAttempts {
		s.mu.Lock()
		stored, found := s.patients[patientID]
		s.mu.Unlock()
		var cur *domain.PatientProfile
		if found {
			c := clone(stored)
			cur = &c
		}
		next, write, err := update(cur)
		if err != nil {
			return domain.PatientProfile{}, err
		}
		if !write {
			return clone(stored), nil
		}
		s.mu.Lock()
		now, still := s.patients[patientID]
		if still != found || (found && now.Version != stored.Version) {
			s.mu.Unlock()
			continue
		}
		if s.patients == nil {
			s.patients = map[string]domain.PatientProfile{}
		}
		s.patients[patientID] = clone(next)
		s.mu.Unlock()
		return next, nil
	}
	return domain.PatientProfile{}, apperr.E(apperr.Conflict, "patient profile changed concurrently %d times; retry", app.MaxUpdateAttempts)
}
