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

// Routes of the appointments: booking, reading, listing and every change of
// a visit. A route that answers with a visit is built by appointmentRoute, so
// its answer and the body stored for its idempotent replay are rendered by
// the same function.

// appointmentRoute completes rt, whose do returns the visit, with the
// rendering of that visit as the answer and as the replay body.
func appointmentRoute(rt Route, do func(ctx context.Context, r *Request) (domain.Appointment, error)) Route {
	rt.RenderAppointment = renderAppointment
	rt.Handle = func(ctx context.Context, r *Request) (any, error) {
		a, err := do(ctx, r)
		if err != nil {
			return nil, err
		}
		return appointmentResponse(a), nil
	}
	return rt
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
	return app.BookInput{BranchID: in.BranchID, ServiceID: in.ServiceID, Start: start, Patient: in.Patient.domain(), Notes: in.Notes}, nil
}

// BookAppointment is POST /v1/appointments → 201 with the appointment. The
// Idempotency-Key header is required.
func BookAppointment(svc UseCases) Route {
	return appointmentRoute(Route{
		Name: "BookAppointment", Method: http.MethodPost, Path: "/v1/appointments",
		Idempotency: IdemRequired, SuccessStatus: http.StatusCreated,
	}, func(ctx context.Context, r *Request) (domain.Appointment, error) {
		in, err := decodeBookInput(r)
		if err != nil {
			return domain.Appointment{}, err
		}
		return svc.Book(ctx, r.Actor, in)
	})
}

// GetAppointment is GET /v1/appointments/{id} → the appointment.
func GetAppointment(svc UseCases) Route {
	return appointmentRoute(Route{
		Name: "GetAppointment", Method: http.MethodGet, Path: "/v1/appointments/{id}",
	}, func(ctx context.Context, r *Request) (domain.Appointment, error) {
		id, err := r.PathParam("id")
		if err != nil {
			return domain.Appointment{}, err
		}
		return svc.GetAppointment(ctx, r.Actor, id)
	})
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
			return appointmentPage(page), nil
		},
	}
}

// RescheduleAppointment is POST /v1/appointments/{id}/reschedule {"start"} →
// 200 with the appointment.
func RescheduleAppointment(svc UseCases) Route {
	return appointmentRoute(Route{
		Name: "RescheduleAppointment", Method: http.MethodPost, Path: "/v1/appointments/{id}/reschedule",
		Idempotency: IdemOptional,
	}, func(ctx context.Context, r *Request) (domain.Appointment, error) {
		id, err := r.PathParam("id")
		if err != nil {
			return domain.Appointment{}, err
		}
		var in RescheduleRequest
		if err := r.Decode(&in); err != nil {
			return domain.Appointment{}, err
		}
		start, err := parseStart("start", in.Start)
		if err != nil {
			return domain.Appointment{}, err
		}
		return svc.Reschedule(ctx, r.Actor, id, start)
	})
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
	return appointmentRoute(Route{
		Name: "CancelAppointment", Method: http.MethodPost, Path: "/v1/appointments/{id}/cancel",
		Idempotency: IdemOptional,
	}, func(ctx context.Context, r *Request) (domain.Appointment, error) {
		id, err := r.PathParam("id")
		if err != nil {
			return domain.Appointment{}, err
		}
		reason, err := decodeReason(r)
		if err != nil {
			return domain.Appointment{}, err
		}
		return svc.Cancel(ctx, r.Actor, id, reason)
	})
}

// transition builds a status-change route.
func transition(svc UseCases, name, verb string, to domain.Status) Route {
	return appointmentRoute(Route{
		Name: name, Method: http.MethodPost, Path: "/v1/appointments/{id}/" + verb,
		Idempotency: IdemOptional,
	}, func(ctx context.Context, r *Request) (domain.Appointment, error) {
		id, err := r.PathParam("id")
		if err != nil {
			return domain.Appointment{}, err
		}
		reason, err := decodeReason(r)
		if err != nil {
			return domain.Appointment{}, err
		}
		return svc.Transition(ctx, r.Actor, id, to, reason)
	})
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
			return items(hs, historyEntryResponse), nil
		},
	}
}
