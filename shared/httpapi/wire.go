package httpapi

// Wire types: the API's request and response bodies (docs/openapi.yaml), owned
// by this adapter and mapped from and to domain types at the edge, so that a
// domain, event or storage change cannot rename an API field by accident.
// Nested shapes sent in both directions (hours, preparation, patient) are one
// type each. testdata/golden pins the JSON of every response.

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
	// HealthResponse is {"status":"ok"}.
	HealthResponse struct {
		Status string `json:"status"`
	}
)

// items wraps a list mapped with f, [] when s is empty.
func items[D, W any](s []D, f func(D) W) ItemsResponse[W] {
	out := make([]W, len(s))
	for i, d := range s {
		out[i] = f(d)
	}
	return ItemsResponse[W]{Items: out}
}

// mapSlice maps s with f, keeping nil as nil and empty as empty (the domain's
// nil lists are sent as null and a client's [] is passed on as given).
func mapSlice[A, B any](s []A, f func(A) B) []B {
	if s == nil {
		return nil
	}
	out := make([]B, len(s))
	for i, a := range s {
		out[i] = f(a)
	}
	return out
}
