package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
)

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
			return slotsResponse(slots), nil
		},
	}
}
