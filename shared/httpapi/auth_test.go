package httpapi

import (
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func TestActorFromClaims(t *testing.T) {
	const sub = "a1b2c3d4-5678-90ab-cdef-111111111111"
	tests := []struct {
		name   string
		claims map[string]string
		want   domain.Actor
	}{
		{"patient, fmt-style list", map[string]string{"sub": sub, "cognito:groups": "[patient]", "custom:patient_id": "pat_1"},
			domain.Actor{ID: sub, Role: domain.RolePatient, PatientID: "pat_1"}},
		{"plain single group", map[string]string{"sub": sub, "cognito:groups": "admin"},
			domain.Actor{ID: sub, Role: domain.RoleAdmin}},
		{"fmt-style list, highest wins", map[string]string{"sub": sub, "cognito:groups": "[admin staff]", "custom:branch_ids": "br_1"},
			domain.Actor{ID: sub, Role: domain.RoleAdmin}},
		{"comma list", map[string]string{"sub": sub, "cognito:groups": "patient,staff", "custom:branch_ids": "br_1, br_2,,", "custom:patient_id": "pat_1"},
			domain.Actor{ID: sub, Role: domain.RoleStaff, BranchIDs: []string{"br_1", "br_2"}}},
		{"quoted comma list", map[string]string{"sub": sub, "cognito:groups": `"admin,staff"`},
			domain.Actor{ID: sub, Role: domain.RoleAdmin}},
		{"JSON array string", map[string]string{"sub": sub, "cognito:groups": `["staff","patient"]`, "custom:branch_ids": "br_9"},
			domain.Actor{ID: sub, Role: domain.RoleStaff, BranchIDs: []string{"br_9"}}},
		{"unknown groups ignored", map[string]string{"sub": sub, "cognito:groups": "[beta-testers staff]"},
			domain.Actor{ID: sub, Role: domain.RoleStaff}},
		{"case-insensitive group names", map[string]string{"sub": sub, "cognito:groups": "Admin"},
			domain.Actor{ID: sub, Role: domain.RoleAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := withClaims(events.APIGatewayV2HTTPRequest{}, tt.claims)
			got, err := ActorFromEvent(&ev)
			if err != nil {
				t.Fatalf("ActorFromEvent: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("actor = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestActorFromRealPayload(t *testing.T) {
	ev := loadEvent(t, "apigw-v2-cancel-base64.json")
	a, err := ActorFromEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Actor{ID: "b2c3d4e5-6789-0abc-def0-222222222222", Role: domain.RoleAdmin}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("actor = %+v, want %+v", a, want)
	}
}

func TestUnusableClaimsAre401(t *testing.T) {
	const sub = "u-1"
	tests := map[string]*events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		"no authorizer":      nil,
		"lambda authorizer":  {Lambda: map[string]any{"sub": sub}},
		"no claims":          {JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}},
		"no sub":             jwt(map[string]string{"cognito:groups": "admin"}),
		"blank sub":          jwt(map[string]string{"sub": "  ", "cognito:groups": "admin"}),
		"no groups":          jwt(map[string]string{"sub": sub}),
		"empty group list":   jwt(map[string]string{"sub": sub, "cognito:groups": "[]"}),
		"unknown group":      jwt(map[string]string{"sub": sub, "cognito:groups": "[superuser]"}),
		"patient without id": jwt(map[string]string{"sub": sub, "cognito:groups": "patient"}),
	}
	for name, auth := range tests {
		t.Run(name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{}
			ev.RequestContext.Authorizer = auth
			if _, err := ActorFromEvent(&ev); !apperr.Is(err, apperr.Unauthenticated) {
				t.Errorf("error = %v, want UNAUTHENTICATED", err)
			}
		})
	}
	t.Run("served as a 401 envelope", func(t *testing.T) {
		h := newHarness()
		ev := withClaims(bookEvent(t), map[string]string{"sub": sub})
		expectError(t, h.serve(t, BookAppointment(h.svc), ev), 401, "UNAUTHENTICATED")
		if h.svc.count("Book") != 0 || len(h.idem.begins) != 0 {
			t.Error("an unauthenticated request reached the use case or the idempotency store")
		}
	})
}

func jwt(claims map[string]string) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
	}
}

func TestPublicRouteNeedsNoClaims(t *testing.T) {
	h := newHarness()
	resp := h.serve(t, Health(), loadEvent(t, "apigw-v2-health.json"))
	if resp.StatusCode != 200 || resp.Body != `{"status":"ok"}` {
		t.Errorf("health = %d %s", resp.StatusCode, resp.Body)
	}
}
