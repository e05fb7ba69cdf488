package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labchain/appointments/shared/app"
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
		GetMe(patientViewsOf(svc)), ListMyDependents(patientViewsOf(svc)),
	}
	m := make(map[string]Route, len(list))
	for _, r := range list {
		m[r.Key()] = r
	}
	return m
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
