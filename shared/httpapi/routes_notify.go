package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/notice"
)

// NotificationUseCases is what the patient-communication routes need;
// *app.Notifications implements it. Rules and error codes are its own.
type NotificationUseCases interface {
	GetPreferences(ctx context.Context, actor domain.Actor, patientID string) (app.PreferencesView, error)
	PutPreferences(ctx context.Context, actor domain.Actor, patientID string, p notice.Preferences) (app.PreferencesView, error)
	RegisterDevice(ctx context.Context, actor domain.Actor, patientID, token, platform string) (notice.Device, bool, error)
	UnregisterDevice(ctx context.Context, actor domain.Actor, patientID, token string) error
	Deliveries(ctx context.Context, actor domain.Actor, appointmentID string) ([]notice.Delivery, error)
}

var _ NotificationUseCases = (*app.Notifications)(nil)

// GetNotificationPreferences is GET
// /v1/patients/{patientId}/notification-preferences → the patient's
// preferences (the patient themself only).
func GetNotificationPreferences(uc NotificationUseCases) Route {
	return Route{
		Name: "GetNotificationPreferences", Method: http.MethodGet, Path: "/v1/patients/{patientId}/notification-preferences",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("patientId")
			if err != nil {
				return nil, err
			}
			v, err := uc.GetPreferences(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return preferencesResponse(v), nil
		},
	}
}

// PutNotificationPreferences is PUT
// /v1/patients/{patientId}/notification-preferences → the preferences after
// the change. All three channels are required.
func PutNotificationPreferences(uc NotificationUseCases) Route {
	return Route{
		Name: "PutNotificationPreferences", Method: http.MethodPut, Path: "/v1/patients/{patientId}/notification-preferences",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("patientId")
			if err != nil {
				return nil, err
			}
			var in PreferencesRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			if in.SMS == nil || in.Email == nil || in.Push == nil {
				return nil, apperr.E(apperr.Validation, "sms, email and push are all required (true or false)")
			}
			v, err := uc.PutPreferences(ctx, r.Actor, id, notice.Preferences{SMS: *in.SMS, Email: *in.Email, Push: *in.Push})
			if err != nil {
				return nil, err
			}
			return preferencesResponse(v), nil
		},
	}
}

// RegisterDevice is PUT /v1/patients/{patientId}/devices/{token} → the
// device; created says whether it was new. The token is the path segment,
// URL-encoded.
func RegisterDevice(uc NotificationUseCases) Route {
	return Route{
		Name: "RegisterDevice", Method: http.MethodPut, Path: "/v1/patients/{patientId}/devices/{token}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, token, err := patientAndToken(r)
			if err != nil {
				return nil, err
			}
			var in DeviceRequest
			if err := r.DecodeOptional(&in); err != nil {
				return nil, err
			}
			d, created, err := uc.RegisterDevice(ctx, r.Actor, id, token, in.Platform)
			if err != nil {
				return nil, err
			}
			return deviceResponse(d, created), nil
		},
	}
}

// UnregisterDevice is DELETE /v1/patients/{patientId}/devices/{token} →
// {"removed":true} (also for a token that was not registered).
func UnregisterDevice(uc NotificationUseCases) Route {
	return Route{
		Name: "UnregisterDevice", Method: http.MethodDelete, Path: "/v1/patients/{patientId}/devices/{token}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, token, err := patientAndToken(r)
			if err != nil {
				return nil, err
			}
			if err := uc.UnregisterDevice(ctx, r.Actor, id, token); err != nil {
				return nil, err
			}
			return RemovedResponse{Removed: true}, nil
		},
	}
}

func patientAndToken(r *Request) (string, string, error) {
	id, err := r.PathParam("patientId")
	if err != nil {
		return "", "", err
	}
	raw, err := r.PathParam("token")
	if err != nil {
		return "", "", err
	}
	// API Gateway passes path parameters still percent-encoded.
	token, err := url.PathUnescape(raw)
	if err != nil {
		return "", "", apperr.E(apperr.Validation, "token: bad percent-encoding")
	}
	return id, token, nil
}

// ListAppointmentNotifications is GET /v1/appointments/{id}/notifications →
// {"items":[...]}: the delivery log (kind, channel, status, attempts,
// provider message id, times), oldest first; no message body or contact.
func ListAppointmentNotifications(uc NotificationUseCases) Route {
	return Route{
		Name: "ListAppointmentNotifications", Method: http.MethodGet, Path: "/v1/appointments/{id}/notifications",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("id")
			if err != nil {
				return nil, err
			}
			ds, err := uc.Deliveries(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return items(ds, deliveryResponse), nil
		},
	}
}

// notificationsOf returns svc's notification use cases when it has them.
func notificationsOf(svc UseCases) NotificationUseCases {
	if n, ok := svc.(NotificationUseCases); ok {
		return n
	}
	return noNotifications{}
}

// noNotifications answers with INTERNAL: a function serving these routes
// must be wired with app.Notifications.
type noNotifications struct{}

var errNoNotifications = apperr.E(apperr.Internal, "notification use cases are not wired into this function")

func (noNotifications) GetPreferences(context.Context, domain.Actor, string) (app.PreferencesView, error) {
	return app.PreferencesView{}, errNoNotifications
}
func (noNotifications) PutPreferences(context.Context, domain.Actor, string, notice.Preferences) (app.PreferencesView, error) {
	return app.PreferencesView{}, errNoNotifications
}
func (noNotifications) RegisterDevice(context.Context, domain.Actor, string, string, string) (notice.Device, bool, error) {
	return notice.Device{}, false, errNoNotifications
}
func (noNotifications) UnregisterDevice(context.Context, domain.Actor, string, string) error {
	return errNoNotifications
}
func (noNotifications) Deliveries(context.Context, domain.Actor, string) ([]notice.Delivery, error) {
	return nil, errNoNotifications
}
