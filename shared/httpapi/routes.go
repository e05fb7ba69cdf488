package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// UseCases is what the routes need of the booking use cases; *app.Service
// implements it, and tests substitute a fake. The methods' rules and error codes
// are documented on app.Service.
type UseCases interface {
	// CreateBranch creates a branch (admin).
	CreateBranch(ctx context.Context, actor domain.Actor, in domain.Branch) (domain.Branch, error)
	// ListBranches lists every branch.
	ListBranches(ctx context.Context, actor domain.Actor) ([]domain.Branch, error)
	// GetBranch returns one branch.
	GetBranch(ctx context.Context, actor domain.Actor, id string) (domain.Branch, error)
	// PutHours replaces a branch's opening hours.
	PutHours(ctx context.Context, actor domain.Actor, branchID string, h domain.Hours) (domain.Hours, error)
	// GetHours returns a branch's opening hours.
	GetHours(ctx context.Context, actor domain.Actor, branchID string) (domain.Hours, error)
	// CreateResource adds a resource to a branch.
	CreateResource(ctx context.Context, actor domain.Actor, branchID string, in domain.Resource) (domain.Resource, error)
	// UpdateResource applies a patch to a resource.
	UpdateResource(ctx context.Context, actor domain.Actor, branchID, resourceID string, p app.ResourcePatch) (domain.Resource, error)
	// ListResources lists a branch's resources.
	ListResources(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Resource, error)
	// CreateService adds a bookable service to a branch.
	CreateService(ctx context.Context, actor domain.Actor, branchID string, in domain.Service) (domain.Service, error)
	// ListServices lists a branch's services.
	ListServices(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Service, error)
	// Availability lists bookable starts.
	Availability(ctx context.Context, actor domain.Actor, q app.AvailabilityQuery) ([]domain.Slot, error)
	// Book books a visit.
	Book(ctx context.Context, actor domain.Actor, in app.BookInput) (domain.Appointment, error)
	// GetAppointment returns a visit the caller may see.
	GetAppointment(ctx context.Context, actor domain.Actor, id string) (domain.Appointment, error)
	// ListAppointments lists visits by branch and day or by patient.
	ListAppointments(ctx context.Context, actor domain.Actor, q app.ListQuery) (app.Page[domain.Appointment], error)
	// Reschedule moves a booked visit.
	Reschedule(ctx context.Context, actor domain.Actor, id string, start time.Time) (domain.Appointment, error)
	// Cancel cancels a booked visit.
	Cancel(ctx context.Context, actor domain.Actor, id, reason string) (domain.Appointment, error)
	// Transition moves a visit to checked_in, completed or no_show.
	Transition(ctx context.Context, actor domain.Actor, id string, to domain.Status, reason string) (domain.Appointment, error)
	// History returns every change of a visit.
	History(ctx context.Context, actor domain.Actor, id string) ([]domain.HistoryEntry, error)
}

var _ UseCases = (*app.Service)(nil)

// Limits checked at the edge.
const (
	// MaxReasonLength bounds a cancellation or transition reason, in characters.
	MaxReasonLength = 500
	// DefaultListLimit is the page size of appointment lists without ?limit.
	DefaultListLimit = 50
	// MaxListLimit is the largest ?limit accepted.
	MaxListLimit = 100
)

// Routes returns every route of the API keyed by route key ("POST
// /v1/appointments"), so tests, docs and the template check can enumerate
// them. Each function's main uses the one constructor it serves instead.
func Routes(svc UseCases) map[string]Route {
	list := []Route{
		Health(),
		CreateBranch(svc), ListBranches(svc), GetBranch(svc),
		PutHours(svc), GetHours(svc),
		CreateResource(svc), ListResources(svc), UpdateResource(svc),
		CreateService(svc), ListServices(svc),
		GetAvailability(svc),
		BookAppointment(svc), GetAppointment(svc), ListAppointments(svc),
		RescheduleAppointment(svc), CancelAppointment(svc),
		CheckIn(svc), Complete(svc), NoShow(svc),
		AppointmentHistory(svc),
		GetCheckupCampaign(checkupReportsOf(svc)),
		GetNotificationPreferences(notificationsOf(svc)), PutNotificationPreferences(notificationsOf(svc)),
		RegisterDevice(notificationsOf(svc)), UnregisterDevice(notificationsOf(svc)),
		ListAppointmentNotifications(notificationsOf(svc)),
	}
	m := make(map[string]Route, len(list))
	for _, r := range list {
		m[r.Key()] = r
	}
	return m
}

// Response bodies that wrap lists. Lists are never null: an empty list is [].
type (
	// ItemsResponse is {"items":[...]}.
	ItemsResponse[T any] struct {
		Items []T `json:"items"`
	}
	// PageResponse is {"items":[...],"nextCursor":"..."|null}.
	PageResponse[T any] struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	// SlotsResponse is {"slots":[...]}.
	SlotsResponse struct {
		Slots []domain.Slot `json:"slots"`
	}
	// HealthResponse is {"status":"ok"}.
	HealthResponse struct {
		Status string `json:"status"`
	}
)

func items[T any](s []T) ItemsResponse[T] {
	if s == nil {
		s = []T{}
	}
	return ItemsResponse[T]{Items: s}
}

// Health is GET /v1/health: public, answers {"status":"ok"} without touching
// any dependency (a liveness probe must not fail with DynamoDB).
func Health() Route {
	return Route{
		Name: "Health", Method: http.MethodGet, Path: "/v1/health", Public: true,
		Handle: func(context.Context, *Request) (any, error) {
			return HealthResponse{Status: "ok"}, nil
		},
	}
}

// CreateBranchRequest is the body of POST /v1/branches. Server-owned fields (id,
// createdAt) are not accepted.
type CreateBranchRequest struct {
	Name        string `json:"name"`
	TimeZone    string `json:"timeZone"`
	SlotMinutes int    `json:"slotMinutes"`
	Address     string `json:"address"`
}

// CreateBranch is POST /v1/branches → 201 with the branch.
func CreateBranch(svc UseCases) Route {
	return Route{
		Name: "CreateBranch", Method: http.MethodPost, Path: "/v1/branches",
		Idempotency: IdemOptional, SuccessStatus: http.StatusCreated,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			var in CreateBranchRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			return svc.CreateBranch(ctx, r.Actor, domain.Branch{Name: in.Name, TimeZone: in.TimeZone, SlotMinutes: in.SlotMinutes, Address: in.Address})
		},
	}
}

// ListBranches is GET /v1/branches → {"items":[...]}.
func ListBranches(svc UseCases) Route {
	return Route{
		Name: "ListBranches", Method: http.MethodGet, Path: "/v1/branches",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			bs, err := svc.ListBranches(ctx, r.Actor)
			if err != nil {
				return nil, err
			}
			return items(bs), nil
		},
	}
}

// GetBranch is GET /v1/branches/{branchId} → the branch.
func GetBranch(svc UseCases) Route {
	return Route{
		Name: "GetBranch", Method: http.MethodGet, Path: "/v1/branches/{branchId}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			return svc.GetBranch(ctx, r.Actor, id)
		},
	}
}

// normalizeHours makes absent lists [] so clients never see null.
func normalizeHours(h domain.Hours) domain.Hours {
	if h.Weekly == nil {
		h.Weekly = []domain.DayHours{}
	}
	if h.Closures == nil {
		h.Closures = []domain.Closure{}
	}
	return h
}

// PutHours is PUT /v1/branches/{branchId}/hours with domain.Hours → 200 with
// the stored hours. PUT replaces, so a retry is harmless without a key.
func PutHours(svc UseCases) Route {
	return Route{
		Name: "PutHours", Method: http.MethodPut, Path: "/v1/branches/{branchId}/hours",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			var h domain.Hours
			if err := r.Decode(&h); err != nil {
				return nil, err
			}
			out, err := svc.PutHours(ctx, r.Actor, id, h)
			if err != nil {
				return nil, err
			}
			return normalizeHours(out), nil
		},
	}
}

// GetHours is GET /v1/branches/{branchId}/hours → the hours.
func GetHours(svc UseCases) Route {
	return Route{
		Name: "GetHours", Method: http.MethodGet, Path: "/v1/branches/{branchId}/hours",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			out, err := svc.GetHours(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return normalizeHours(out), nil
		},
	}
}

// CreateResourceRequest is the body of POST /v1/branches/{branchId}/resources.
// Active defaults to true: a resource is created to be used.
type CreateResourceRequest struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Active *bool             `json:"active"`
	Hours  []domain.DayHours `json:"hours"`
}

// CreateResource is POST /v1/branches/{branchId}/resources → 201 with the
// resource.
func CreateResource(svc UseCases) Route {
	return Route{
		Name: "CreateResource", Method: http.MethodPost, Path: "/v1/branches/{branchId}/resources",
		Idempotency: IdemOptional, SuccessStatus: http.StatusCreated,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			branchID, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			var in CreateResourceRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			active := in.Active == nil || *in.Active
			return svc.CreateResource(ctx, r.Actor, branchID, domain.Resource{
				BranchID: branchID, Name: in.Name, Type: in.Type, Active: active, Hours: in.Hours,
			})
		},
	}
}

// ListResources is GET /v1/branches/{branchId}/resources → {"items":[...]}.
func ListResources(svc UseCases) Route {
	return Route{
		Name: "ListResources", Method: http.MethodGet, Path: "/v1/branches/{branchId}/resources",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			branchID, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			rs, err := svc.ListResources(ctx, r.Actor, branchID)
			if err != nil {
				return nil, err
			}
			return items(rs), nil
		},
	}
}

// UpdateResource is PATCH /v1/branches/{branchId}/resources/{resourceId} with
// app.ResourcePatch (absent or null members are left alone) → 200 with the
// resource.
func UpdateResource(svc UseCases) Route {
	return Route{
		Name: "UpdateResource", Method: http.MethodPatch, Path: "/v1/branches/{branchId}/resources/{resourceId}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			branchID, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			resourceID, err := r.PathParam("resourceId")
			if err != nil {
				return nil, err
			}
			var p app.ResourcePatch
			if err := r.Decode(&p); err != nil {
				return nil, err
			}
			return svc.UpdateResource(ctx, r.Actor, branchID, resourceID, p)
		},
	}
}

// CreateServiceRequest is the body of POST /v1/branches/{branchId}/services.
type CreateServiceRequest struct {
	Name                string               `json:"name"`
	DurationMinutes     int                  `json:"durationMinutes"`
	Requires            []domain.Requirement `json:"requires"`
	Preparation         domain.Preparation   `json:"preparation"`
	MinNoticeMinutes    int                  `json:"minNoticeMinutes"`
	MaxAdvanceDays      int                  `json:"maxAdvanceDays"`
	CancelCutoffMinutes int                  `json:"cancelCutoffMinutes"`
}

// CreateService is POST /v1/branches/{branchId}/services → 201 with the service.
func CreateService(svc UseCases) Route {
	return Route{
		Name: "CreateService", Method: http.MethodPost, Path: "/v1/branches/{branchId}/services",
		Idempotency: IdemOptional, SuccessStatus: http.StatusCreated,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			branchID, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			var in CreateServiceRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			return svc.CreateService(ctx, r.Actor, branchID, domain.Service{
				BranchID: branchID, Name: in.Name, DurationMinutes: in.DurationMinutes,
				Requires: in.Requires, Preparation: in.Preparation,
				MinNoticeMinutes: in.MinNoticeMinutes, MaxAdvanceDays: in.MaxAdvanceDays,
				CancelCutoffMinutes: in.CancelCutoffMinutes,
			})
		},
	}
}

// ListServices is GET /v1/branches/{branchId}/services → {"items":[...]}.
func ListServices(svc UseCases) Route {
	return Route{
		Name: "ListServices", Method: http.MethodGet, Path: "/v1/branches/{branchId}/services",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			branchID, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			ss, err := svc.ListServices(ctx, r.Actor, branchID)
			if err != nil {
				return nil, err
			}
			return items(ss), nil
		},
	}
}

// requireQuery returns the named query parameters, or one VALIDATION_FAILED
// naming every missing one.
func requireQuery(r *Request, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		vals[i] = r.Query(n)
		if vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, apperr.E(apperr.Validation, "missing query parameters: %s", strings.Join(missing, ", "))
	}
	return vals, nil
}

// GetAvailability is GET /v1/availability?branchId=&serviceId=&from=&to= (local
// dates YYYY-MM-DD, inclusive) → {"slots":[...]}.
func GetAvailability(svc UseCases) Route {
	return Route{
		Name: "GetAvailability", Method: http.MethodGet, Path: "/v1/availability",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			q, err := requireQuery(r, "branchId", "serviceId", "from", "to")
			if err != nil {
				return nil, err
			}
			slots, err := svc.Availability(ctx, r.Actor, app.AvailabilityQuery{BranchID: q[0], ServiceID: q[1], From: q[2], To: q[3]})
			if err != nil {
				return nil, err
			}
			if slots == nil {
				slots = []domain.Slot{}
			}
			return SlotsResponse{Slots: slots}, nil
		},
	}
}

// BookRequest is the body of POST /v1/appointments. Start is an RFC 3339
// date-time with a UTC offset, such as "2025-03-01T09:00:00+07:00".
type BookRequest struct {
	BranchID  string         `json:"branchId"`
	ServiceID string         `json:"serviceId"`
	Start     string         `json:"start"`
	Patient   domain.Patient `json:"patient"`
	Notes     string         `json:"notes"`
}

// parseStart parses an RFC 3339 date-time that must carry an offset ("Z" or
// ±hh:mm): a local time without one would be guessed in some zone, and a visit
// an hour off is worse than a 400.
func parseStart(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, apperr.E(apperr.Validation, "%s is required", field)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.E(apperr.Validation, "%s must be an RFC 3339 date-time with a UTC offset, such as 2025-03-01T09:00:00+07:00", field)
	}
	return t, nil
}

// decodeBookInput decodes and checks the booking body.
func decodeBookInput(r *Request) (app.BookInput, error) {
	var in BookRequest
	if err := r.Decode(&in); err != nil {
		return app.BookInput{}, err
	}
	if strings.TrimSpace(in.BranchID) == "" {
		return app.BookInput{}, apperr.E(apperr.Validation, "branchId is required")
	}
	if strings.TrimSpace(in.ServiceID) == "" {
		return app.BookInput{}, apperr.E(apperr.Validation, "serviceId is required")
	}
	start, err := parseStart("start", in.Start)
	if err != nil {
		return app.BookInput{}, err
	}
	return app.BookInput{BranchID: in.BranchID, ServiceID: in.ServiceID, Start: start, Patient: in.Patient, Notes: in.Notes}, nil
}

// BookAppointment is POST /v1/appointments → 201 with the appointment. The
// Idempotency-Key header is required.
func BookAppointment(svc UseCases) Route {
	return Route{
		Name: "BookAppointment", Method: http.MethodPost, Path: "/v1/appointments",
		Idempotency: IdemRequired, SuccessStatus: http.StatusCreated,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			in, err := decodeBookInput(r)
			if err != nil {
				return nil, err
			}
			return svc.Book(ctx, r.Actor, in)
		},
	}
}

// GetAppointment is GET /v1/appointments/{id} → the appointment.
func GetAppointment(svc UseCases) Route {
	return Route{
		Name: "GetAppointment", Method: http.MethodGet, Path: "/v1/appointments/{id}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			return svc.GetAppointment(ctx, r.Actor, id)
		},
	}
}

// listQuery reads ?branchId=&date= or ?patientId=, ?limit= (1..100, default
// 50) and ?cursor=.
func listQuery(r *Request) (app.ListQuery, error) {
	q := app.ListQuery{
		BranchID:  r.Query("branchId"),
		Date:      r.Query("date"),
		PatientID: r.Query("patientId"),
		Limit:     DefaultListLimit,
		Cursor:    r.Query("cursor"),
	}
	byBranch := q.BranchID != "" || q.Date != ""
	switch {
	case byBranch && q.PatientID != "":
		return q, apperr.E(apperr.Validation, "use either branchId and date, or patientId")
	case byBranch && (q.BranchID == "" || q.Date == ""):
		return q, apperr.E(apperr.Validation, "branchId and date go together")
	case !byBranch && q.PatientID == "":
		return q, apperr.E(apperr.Validation, "missing query parameters: branchId and date, or patientId")
	}
	if s, ok := r.Event.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > MaxListLimit {
			return q, apperr.E(apperr.Validation, "limit must be a whole number from 1 to %d", MaxListLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// ListAppointments is GET /v1/appointments?branchId=&date= or ?patientId=, with
// limit and cursor → {"items":[...],"nextCursor":"..."|null}.
func ListAppointments(svc UseCases) Route {
	return Route{
		Name: "ListAppointments", Method: http.MethodGet, Path: "/v1/appointments",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			q, err := listQuery(r)
			if err != nil {
				return nil, err
			}
			page, err := svc.ListAppointments(ctx, r.Actor, q)
			if err != nil {
				return nil, err
			}
			resp := PageResponse[domain.Appointment]{Items: page.Items}
			if resp.Items == nil {
				resp.Items = []domain.Appointment{}
			}
			if page.Cursor != "" {
				resp.NextCursor = &page.Cursor
			}
			return resp, nil
		},
	}
}

// RescheduleRequest is the body of POST /v1/appointments/{id}/reschedule.
type RescheduleRequest struct {
	Start string `json:"start"`
}

// RescheduleAppointment is POST /v1/appointments/{id}/reschedule {"start"} →
// 200 with the appointment.
func RescheduleAppointment(svc UseCases) Route {
	return Route{
		Name: "RescheduleAppointment", Method: http.MethodPost, Path: "/v1/appointments/{id}/reschedule",
		Idempotency: IdemOptional,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			var in RescheduleRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			start, err := parseStart("start", in.Start)
			if err != nil {
				return nil, err
			}
			return svc.Reschedule(ctx, r.Actor, id, start)
		},
	}
}

// ReasonRequest is the optional body of the cancel and status routes.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

// decodeReason reads an optional {"reason"} body of at most MaxReasonLength
// characters.
func decodeReason(r *Request) (string, error) {
	var in ReasonRequest
	if err := r.DecodeOptional(&in); err != nil {
		return "", err
	}
	reason := strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(reason) > MaxReasonLength {
		return "", apperr.E(apperr.Validation, "reason must be at most %d characters", MaxReasonLength)
	}
	return reason, nil
}

// CancelAppointment is POST /v1/appointments/{id}/cancel with an optional
// {"reason"} → 200 with the appointment.
func CancelAppointment(svc UseCases) Route {
	return Route{
		Name: "CancelAppointment", Method: http.MethodPost, Path: "/v1/appointments/{id}/cancel",
		Idempotency: IdemOptional,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			reason, err := decodeReason(r)
			if err != nil {
				return nil, err
			}
			return svc.Cancel(ctx, r.Actor, id, reason)
		},
	}
}

// transition builds a status-change route.
func transition(svc UseCases, name, verb string, to domain.Status) Route {
	return Route{
		Name: name, Method: http.MethodPost, Path: "/v1/appointments/{id}/" + verb,
		Idempotency: IdemOptional,
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			reason, err := decodeReason(r)
			if err != nil {
				return nil, err
			}
			return svc.Transition(ctx, r.Actor, id, to, reason)
		},
	}
}

// CheckIn is POST /v1/appointments/{id}/check-in with an optional {"reason"} →
// 200 with the appointment, now checked_in.
func CheckIn(svc UseCases) Route {
	return transition(svc, "CheckIn", "check-in", domain.StatusCheckedIn)
}

// Complete is POST /v1/appointments/{id}/complete with an optional {"reason"}
// → 200 with the appointment, now completed.
func Complete(svc UseCases) Route {
	return transition(svc, "Complete", "complete", domain.StatusCompleted)
}

// NoShow is POST /v1/appointments/{id}/no-show with an optional {"reason"} →
// 200 with the appointment, now no_show.
func NoShow(svc UseCases) Route {
	return transition(svc, "NoShow", "no-show", domain.StatusNoShow)
}

// AppointmentHistory is GET /v1/appointments/{id}/history → {"items":[...]},
// oldest first.
func AppointmentHistory(svc UseCases) Route {
	return Route{
		Name: "AppointmentHistory", Method: http.MethodGet, Path: "/v1/appointments/{id}/history",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			hs, err := svc.History(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return items(hs), nil
		},
	}
}
