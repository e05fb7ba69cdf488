package httpapi

import (
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// CreateBranchRequest is the body of POST /v1/branches. Server-owned fields (id,
// createdAt) are not accepted.
type CreateBranchRequest struct {
	Name        string `json:"name"`
	TimeZone    string `json:"timeZone"`
	SlotMinutes int    `json:"slotMinutes"`
	Address     string `json:"address"`
}

func (in CreateBranchRequest) domain() domain.Branch {
	return domain.Branch{Name: in.Name, TimeZone: in.TimeZone, SlotMinutes: in.SlotMinutes, Address: in.Address}
}

// BranchResponse is a branch.
type BranchResponse struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	TimeZone    string    `json:"timeZone"`
	SlotMinutes int       `json:"slotMinutes"`
	Address     string    `json:"address,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

func branchResponse(b domain.Branch) BranchResponse {
	return BranchResponse{ID: b.ID, Name: b.Name, TimeZone: b.TimeZone, SlotMinutes: b.SlotMinutes, Address: b.Address, CreatedAt: b.CreatedAt}
}

// DayHoursBody is one weekday's opening interval, "HH:MM" local time.
type DayHoursBody struct {
	Day   string `json:"day"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

func dayHoursBody(d domain.DayHours) DayHoursBody {
	return DayHoursBody{Day: d.Day, Open: d.Open, Close: d.Close}
}

func (d DayHoursBody) domain() domain.DayHours {
	return domain.DayHours{Day: d.Day, Open: d.Open, Close: d.Close}
}

// ClosureBody closes a branch for a whole local date.
type ClosureBody struct {
	Date   string `json:"date"`
	Reason string `json:"reason,omitempty"`
}

// HoursBody is a branch's opening hours: the body of PUT
// /v1/branches/{branchId}/hours and the answer of both hours routes.
type HoursBody struct {
	Weekly   []DayHoursBody `json:"weekly"`
	Closures []ClosureBody  `json:"closures"`
}

func (h HoursBody) domain() domain.Hours {
	return domain.Hours{
		Weekly:   mapSlice(h.Weekly, DayHoursBody.domain),
		Closures: mapSlice(h.Closures, func(c ClosureBody) domain.Closure { return domain.Closure{Date: c.Date, Reason: c.Reason} }),
	}
}

// hoursResponse maps hours; absent lists are [] so clients never see null.
func hoursResponse(h domain.Hours) HoursBody {
	out := HoursBody{
		Weekly:   mapSlice(h.Weekly, dayHoursBody),
		Closures: mapSlice(h.Closures, func(c domain.Closure) ClosureBody { return ClosureBody{Date: c.Date, Reason: c.Reason} }),
	}
	if out.Weekly == nil {
		out.Weekly = []DayHoursBody{}
	}
	if out.Closures == nil {
		out.Closures = []ClosureBody{}
	}
	return out
}

// CreateResourceRequest is the body of POST /v1/branches/{branchId}/resources.
// Active defaults to true: a resource is created to be used.
type CreateResourceRequest struct {
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Active *bool          `json:"active"`
	Hours  []DayHoursBody `json:"hours"`
}

func (in CreateResourceRequest) domain(branchID string) domain.Resource {
	return domain.Resource{
		BranchID: branchID, Name: in.Name, Type: in.Type,
		Active: in.Active == nil || *in.Active, Hours: mapSlice(in.Hours, DayHoursBody.domain),
	}
}

// UpdateResourceRequest is the body of PATCH
// /v1/branches/{branchId}/resources/{resourceId}: absent or null members are
// left alone.
type UpdateResourceRequest struct {
	Name   *string         `json:"name"`
	Active *bool           `json:"active"`
	Hours  *[]DayHoursBody `json:"hours"`
}

func (in UpdateResourceRequest) patch() app.ResourcePatch {
	p := app.ResourcePatch{Name: in.Name, Active: in.Active}
	if in.Hours != nil {
		h := mapSlice(*in.Hours, DayHoursBody.domain)
		p.Hours = &h
	}
	return p
}

// ResourceResponse is a resource.
type ResourceResponse struct {
	ID        string         `json:"id"`
	BranchID  string         `json:"branchId"`
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	Active    bool           `json:"active"`
	Hours     []DayHoursBody `json:"hours,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
}

func resourceResponse(r domain.Resource) ResourceResponse {
	return ResourceResponse{
		ID: r.ID, BranchID: r.BranchID, Name: r.Name, Type: r.Type, Active: r.Active,
		Hours: mapSlice(r.Hours, dayHoursBody), CreatedAt: r.CreatedAt,
	}
}

// RequirementBody says a service needs Count resources of Type.
type RequirementBody struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// PreparationBody is what a patient must do before the visit.
type PreparationBody struct {
	FastingHours int               `json:"fastingHours"`
	Instructions map[string]string `json:"instructions,omitempty"`
}

func preparationBody(p domain.Preparation) PreparationBody {
	return PreparationBody{FastingHours: p.FastingHours, Instructions: p.Instructions}
}

func (p PreparationBody) domain() domain.Preparation {
	return domain.Preparation{FastingHours: p.FastingHours, Instructions: p.Instructions}
}

// CreateServiceRequest is the body of POST /v1/branches/{branchId}/services.
type CreateServiceRequest struct {
	Name                string            `json:"name"`
	DurationMinutes     int               `json:"durationMinutes"`
	Requires            []RequirementBody `json:"requires"`
	Preparation         PreparationBody   `json:"preparation"`
	MinNoticeMinutes    int               `json:"minNoticeMinutes"`
	MaxAdvanceDays      int               `json:"maxAdvanceDays"`
	CancelCutoffMinutes int               `json:"cancelCutoffMinutes"`
}

func (in CreateServiceRequest) domain(branchID string) domain.Service {
	return domain.Service{
		BranchID: branchID, Name: in.Name, DurationMinutes: in.DurationMinutes,
		Requires:         mapSlice(in.Requires, func(r RequirementBody) domain.Requirement { return domain.Requirement{Type: r.Type, Count: r.Count} }),
		Preparation:      in.Preparation.domain(),
		MinNoticeMinutes: in.MinNoticeMinutes, MaxAdvanceDays: in.MaxAdvanceDays,
		CancelCutoffMinutes: in.CancelCutoffMinutes,
	}
}

// ServiceResponse is a bookable service.
type ServiceResponse struct {
	ID                  string            `json:"id"`
	BranchID            string            `json:"branchId"`
	Name                string            `json:"name"`
	DurationMinutes     int               `json:"durationMinutes"`
	Requires            []RequirementBody `json:"requires"`
	Preparation         PreparationBody   `json:"preparation"`
	MinNoticeMinutes    int               `json:"minNoticeMinutes"`
	MaxAdvanceDays      int               `json:"maxAdvanceDays"`
	CancelCutoffMinutes int               `json:"cancelCutoffMinutes"`
	CreatedAt           time.Time         `json:"createdAt"`
}

func serviceResponse(s domain.Service) ServiceResponse {
	return ServiceResponse{
		ID: s.ID, BranchID: s.BranchID, Name: s.Name, DurationMinutes: s.DurationMinutes,
		Requires:         mapSlice(s.Requires, func(r domain.Requirement) RequirementBody { return RequirementBody{Type: r.Type, Count: r.Count} }),
		Preparation:      preparationBody(s.Preparation),
		MinNoticeMinutes: s.MinNoticeMinutes, MaxAdvanceDays: s.MaxAdvanceDays,
		CancelCutoffMinutes: s.CancelCutoffMinutes, CreatedAt: s.CreatedAt,
	}
}

// SlotResponse is one bookable start.
type SlotResponse struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Available int       `json:"available"`
}

// SlotsResponse is {"slots":[...]}, never null.
type SlotsResponse struct {
	Slots []SlotResponse `json:"slots"`
}

func slotsResponse(s []domain.Slot) SlotsResponse {
	return SlotsResponse{Slots: items(s, func(s domain.Slot) SlotResponse {
		return SlotResponse{Start: s.Start, End: s.End, Available: s.Available}
	}).Items}
}
