package app

import (
	"regexp"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// idPattern is what any id used in a storage key may look like; anything else
// cannot exist, so it is reported as not found rather than passed to the store.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,80}$`)

func validID(id string) bool { return idPattern.MatchString(id) }

func authenticated(a domain.Actor) error {
	switch a.Role {
	case domain.RolePatient:
		if !validID(a.PatientID) {
			return apperr.E(apperr.Unauthenticated, "patient token has no usable patient id")
		}
		return nil
	case domain.RoleStaff, domain.RoleAdmin:
		return nil
	}
	return apperr.E(apperr.Unauthenticated, "authentication required")
}

func adminOnly(a domain.Actor) error {
	if err := authenticated(a); err != nil {
		return err
	}
	if a.Role != domain.RoleAdmin {
		return apperr.E(apperr.Forbidden, "only administrators may change branch configuration")
	}
	return nil
}

// canSee reports whether the actor may see an appointment: its patient, staff
// of its branch, admins.
func canSee(a domain.Actor, appt domain.Appointment) bool {
	switch a.Role {
	case domain.RoleAdmin:
		return true
	case domain.RoleStaff:
		return a.InBranch(appt.BranchID)
	case domain.RolePatient:
		return a.PatientID != "" && appt.Patient.ID == a.PatientID
	}
	return false
}

func notFound(what, id string) error { return apperr.E(apperr.NotFound, "%s %q not found", what, id) }
