package httpapi

import (
	"time"

	"github.com/labchain/appointments/shared/app"
)

// MeResponse is GET /v1/me: the caller's profile from the Patient Service
// (verified contacts) and their upcoming visits, soonest first.
type MeResponse struct {
	PatientID  string                `json:"patientId"`
	Name       string                `json:"name"`
	Phone      string                `json:"phone"`
	Email      string                `json:"email"`
	Locale     string                `json:"locale"`
	LineUserID string                `json:"lineUserId,omitempty"`
	BirthDate  string                `json:"birthDate,omitempty"`
	MergedInto string                `json:"mergedIntoPatientId,omitempty"`
	Dependents []DependentResponse   `json:"dependents"`
	Upcoming   []AppointmentResponse `json:"upcoming"`
}

// DependentResponse is a person the caller may act for.
type DependentResponse struct {
	PatientID string    `json:"patientId"`
	Relation  string    `json:"relation"`
	ConsentAt time.Time `json:"consentAt"`
	Name      string    `json:"name,omitempty"` // from the dependent's own profile, when there is one
}

// DependentsResponse is GET /v1/me/dependents.
type DependentsResponse struct {
	Items []DependentResponse `json:"items"`
}

func meResponse(v app.MeView) MeResponse {
	p := v.Profile
	out := MeResponse{
		PatientID: p.PatientID, Name: p.Name, Phone: p.Phone, Email: p.Email, Locale: p.Locale,
		LineUserID: p.LineUserID, BirthDate: p.BirthDate, MergedInto: p.MergedInto,
		Dependents: make([]DependentResponse, 0, len(p.Dependents)),
		Upcoming:   make([]AppointmentResponse, 0, len(v.Upcoming)),
	}
	for _, d := range p.Dependents {
		out.Dependents = append(out.Dependents, DependentResponse{PatientID: d.PatientID, Relation: d.Relation, ConsentAt: d.ConsentAt})
	}
	for _, a := range v.Upcoming {
		out.Upcoming = append(out.Upcoming, appointmentResponse(a))
	}
	return out
}
