package app

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// PatientUpdateFunc decides a profile's next state from the stored one (nil
// when there is none): it returns the profile to write and whether to write
// it at all (false: leave the stored profile as it is).
type PatientUpdateFunc func(stored *domain.PatientProfile) (next domain.PatientProfile, write bool, err error)

// PatientStore is the persistence of patient profiles (the Patient Service's
// data). The DynamoDB store implements it next to Store.
type PatientStore interface {
	// GetPatient returns a patient's profile (an erased profile is a
	// tombstone: see domain.PatientProfile) or NOT_FOUND.
	GetPatient(ctx context.Context, patientID string) (domain.PatientProfile, error)
	// UpdatePatient reads the profile, calls update and, if it asks to write,
	// writes the result on condition that the profile is still the one read
	// (same version, or still absent); after a concurrent change it reads
	// and decides again, at most MaxUpdateAttempts times in all, then
	// returns CONFLICT. An error of update is returned as it is. It returns
	// the profile as stored afterwards.
	UpdatePatient(ctx context.Context, patientID string, update PatientUpdateFunc) (domain.PatientProfile, error)
}

// Patients applies the Patient Service's events to the profiles.
type Patients struct {
	store PatientStore
	now   func() time.Time
}

// NewPatients returns the patient use cases over store; now defaults to
// time.Now.
func NewPatients(store PatientStore, now func() time.Time) *Patients {
	if now == nil {
		now = time.Now
	}
	return &Patients{store: store, now: now}
}

// ApplyPatientEvent applies one patient event (domain.ApplyPatientChange): an
// event not newer than the stored version is a no-op, so duplicates and late
// arrivals never take a profile back; an event contradicting an erasure or
// breaking a rule beyond the schema is VALIDATION_FAILED (permanent).
//
// Not done yet (issue #15): a merge only marks the profile merged away, it
// does not move appointments, waitlist entries or notification history; an
// erasure only empties the profile, not the appointments, history, delivery
// logs, idempotency replays or outbox records that hold the patient's data.
func (p *Patients) ApplyPatientEvent(ctx context.Context, c domain.PatientChange) error {
	now := p.now().UTC().Truncate(time.Millisecond)
	_, err := p.store.UpdatePatient(ctx, c.PatientID, func(stored *domain.PatientProfile) (domain.PatientProfile, bool, error) {
		return domain.ApplyPatientChange(stored, c, now)
	})
	return err
}
