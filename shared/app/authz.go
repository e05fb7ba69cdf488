package app

import (
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// validID reports whether id may be used in a storage key: 1 to 80 ASCII
// letters, digits, '_', '.', ':' or '-'. Anything else cannot exist, so it is
// reported as not found rather than passed to the store. (A loop, not a
// regexp: a counted repetition compiles into a large program at every cold
// start; authz_id_test.go checks it against the regexp.)
func validID(id string) bool {
	if len(id) < 1 || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

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
