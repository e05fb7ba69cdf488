package domain

import (
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

// MaxDependents is the most dependents one patient profile lists.
const MaxDependents = 20

// Relations a dependent may have to the guardian whose profile lists them.
var relations = []string{"child", "parent", "spouse", "other"}

// Relations returns the relations of a dependent, in the contract's order.
func Relations() []string { return append([]string(nil), relations...) }

// Dependent is a person a guardian may act for, with the time the consent
// to do so was recorded by the Patient Service.
type Dependent struct {
	PatientID string
	Relation  string
	ConsentAt time.Time
}

// PatientProfile is a patient's record from the Patient Service: the verified
// contacts and the dependents. Everything but the ids, the version and the
// times is personal data.
//
// Version is the Patient Service's per-patient counter of the last event
// applied; a profile never goes back to a lower version. A merged profile
// keeps its data and names the surviving profile in MergedInto; an erased
// profile keeps only PatientID, Version and ErasedAt (a tombstone, so that a
// late, older event cannot bring the data back).
type PatientProfile struct {
	PatientID  string
	Version    int64
	Name       string
	Phone      string
	Email      string
	Locale     string
	LineUserID string // "" when the patient has not linked LINE
	BirthDate  string // YYYY-MM-DD, "" when unknown
	Dependents []Dependent
	MergedInto string    // the surviving patient id after a merge, else ""
	ErasedAt   time.Time // zero unless erased
	UpdatedAt  time.Time // when we applied the last event
}

// Erased reports whether the profile is an erasure tombstone.
func (p PatientProfile) Erased() bool { return !p.ErasedAt.IsZero() }

// PatientEventKind is what a PatientChange does.
type PatientEventKind string

// The patient event kinds.
const (
	PatientUpserted PatientEventKind = "patient.upserted"
	PatientMerged   PatientEventKind = "patient.merged"
	PatientErased   PatientEventKind = "patient.erased"
)

// PatientChange is one event of the Patient Service about one patient
// (PatientID; for a merge, the patient merged away). Profile holds the new
// data of an upsert.
type PatientChange struct {
	Kind       PatientEventKind
	PatientID  string
	Version    int64
	Profile    PatientProfile // PatientUpserted only
	IntoID     string         // PatientMerged only
	OccurredAt time.Time
}

// CheckPatientEvent checks the rules of a patient event that its JSON
// Schema cannot express: a patient is not their own dependent, lists a
// dependent once, and is not merged into themselves. Errors are
// VALIDATION_FAILED.
func CheckPatientEvent(c PatientChange) error {
	switch c.Kind {
	case PatientUpserted:
		seen := map[string]bool{}
		for i, d := range c.Profile.Dependents {
			if d.PatientID == c.PatientID {
				return apperr.E(apperr.Validation, "dependents[%d].patientId: a patient cannot be their own dependent", i)
			}
			if seen[d.PatientID] {
				return apperr.E(apperr.Validation, "dependents[%d].patientId: is listed twice", i)
			}
			seen[d.PatientID] = true
		}
	case PatientMerged:
		if c.IntoID == c.PatientID {
			return apperr.E(apperr.Validation, "intoPatientId: must differ from fromPatientId")
		}
	}
	return nil
}

// ApplyPatientChange returns the profile after change c, given the stored
// profile (nil if there is none), and whether anything changed. Rules:
//   - an event whose version is not above the stored one is a repeat or
//     arrived late: nothing changes (the profile never goes back);
//   - an erased profile stays erased: a later, higher version is a
//     contradiction (permanent VALIDATION_FAILED, so the message is
//     dead-lettered for an operator), an older one is ignored as above;
//   - upserted replaces the data (a merge mark stays);
//   - merged records MergedInto (on a profile not seen yet, a stub with only
//     the mark, which a later upsert fills);
//   - erased drops every personal field and the dependents.
func ApplyPatientChange(stored *PatientProfile, c PatientChange, now time.Time) (PatientProfile, bool, error) {
	if err := CheckPatientEvent(c); err != nil {
		return PatientProfile{}, false, err
	}
	var cur PatientProfile
	if stored != nil {
		cur = *stored
		if c.Version <= cur.Version {
			return cur, false, nil
		}
		if cur.Erased() {
			return cur, false, apperr.E(apperr.Validation, "patient event after the patient's erasure (version %d > %d): use a new patientId", c.Version, cur.Version)
		}
	}
	next := cur
	next.PatientID, next.Version, next.UpdatedAt = c.PatientID, c.Version, now
	switch c.Kind {
	case PatientUpserted:
		p := c.Profile
		next.Name, next.Phone, next.Email, next.Locale = p.Name, p.Phone, p.Email, p.Locale
		next.LineUserID, next.BirthDate = p.LineUserID, p.BirthDate
		next.Dependents = append([]Dependent(nil), p.Dependents...)
	case PatientMerged:
		next.MergedInto = c.IntoID
	case PatientErased:
		next = PatientProfile{PatientID: c.PatientID, Version: c.Version, ErasedAt: now, UpdatedAt: now}
	default:
		return PatientProfile{}, false, apperr.E(apperr.Validation, "type: unknown patient event %q", string(c.Kind))
	}
	return next, true, nil
}
