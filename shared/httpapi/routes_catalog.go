package httpapi

import (
	"context"
	"net/http"
)

// Routes of the catalog: branches, their opening hours, resources and
// services. Bodies are the wire types of wire_catalog.go.

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
			b, err := svc.CreateBranch(ctx, r.Actor, in.domain())
			if err != nil {
				return nil, err
			}
			return branchResponse(b), nil
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
			return items(bs, branchResponse), nil
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
			b, err := svc.GetBranch(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return branchResponse(b), nil
		},
	}
}

// PutHours is PUT /v1/branches/{branchId}/hours with HoursBody → 200 with the
// stored hours. PUT replaces, so a retry is harmless without a key.
func PutHours(svc UseCases) Route {
	return Route{
		Name: "PutHours", Method: http.MethodPut, Path: "/v1/branches/{branchId}/hours",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("branchId")
			if err != nil {
				return nil, err
			}
			var in HoursBody
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			out, err := svc.PutHours(ctx, r.Actor, id, in.domain())
			if err != nil {
				return nil, err
			}
			return hoursResponse(out), nil
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
			return hoursResponse(out), nil
		},
	}
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
			res, err := svc.CreateResource(ctx, r.Actor, branchID, in.domain(branchID))
			if err != nil {
				return nil, err
			}
			return resourceResponse(res), nil
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
			return items(rs, resourceResponse), nil
		},
	}
}

// UpdateResource is PATCH /v1/branches/{branchId}/resources/{resourceId} with
// UpdateResourceRequest (absent or null members are left alone) → 200 with
// the resource.
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
			var in UpdateResourceRequest
			if err := r.Decode(&in); err != nil {
				return nil, err
			}
			res, err := svc.UpdateResource(ctx, r.Actor, branchID, resourceID, in.patch())
			if err != nil {
				return nil, err
			}
			return resourceResponse(res), nil
		},
	}
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
			s, err := svc.CreateService(ctx, r.Actor, branchID, in.domain(branchID))
			if err != nil {
				return nil, err
			}
			return serviceResponse(s), nil
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
			return items(ss, serviceResponse), nil
		},
	}
}
