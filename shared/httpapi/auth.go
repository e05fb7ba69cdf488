package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// JWT claims the API reads. API Gateway has already verified the token's
// signature, issuer, audience and expiry; these are taken as given.
const (
	ClaimSubject   = "sub"
	ClaimGroups    = "cognito:groups"
	ClaimPatientID = "custom:patient_id"
	ClaimBranchIDs = "custom:branch_ids"
)

// ActorFromEvent builds the caller from the JWT authorizer's claims in
// requestContext.authorizer.jwt.claims, and from nothing else: headers and
// bodies are the caller's word, the claims are the identity provider's.
//
// The role is the highest of the groups in cognito:groups (admin > staff >
// patient); API Gateway flattens that array claim into a string, seen as
// "[admin staff]", "admin", "admin,staff" or `["admin","staff"]`, and all are
// accepted. sub becomes Actor.ID; a patient needs custom:patient_id; a staff
// member's branches come from custom:branch_ids (comma-separated). Missing or
// unusable claims give UNAUTHENTICATED.
func ActorFromEvent(ev *events.APIGatewayV2HTTPRequest) (domain.Actor, error) {
	unauth := func(msg string) (domain.Actor, error) {
		return domain.Actor{}, apperr.E(apperr.Unauthenticated, "%s", msg)
	}
	auth := ev.RequestContext.Authorizer
	if auth == nil || auth.JWT == nil || len(auth.JWT.Claims) == 0 {
		return unauth("missing or invalid credentials")
	}
	claims := auth.JWT.Claims
	sub := strings.TrimSpace(claims[ClaimSubject])
	if sub == "" {
		return unauth("the token has no subject")
	}
	role := highestRole(parseGroups(claims[ClaimGroups]))
	if role == "" {
		return unauth("the token grants no known role")
	}
	a := domain.Actor{ID: sub, Role: role}
	switch role {
	case domain.RolePatient:
		a.PatientID = strings.TrimSpace(claims[ClaimPatientID])
		if a.PatientID == "" {
			return unauth("the token has no patient id")
		}
	case domain.RoleStaff:
		a.BranchIDs = splitList(claims[ClaimBranchIDs])
	}
	return a, nil
}

// parseGroups reads the string form of the cognito:groups claim: a JSON array,
// Go's fmt form "[a b]", or a plain comma/space list, with stray quotes and
// brackets ignored.
func parseGroups(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var arr []string
		if err := json.Unmarshal([]byte(s), &arr); err == nil {
			return arr
		}
	}
	s = strings.Trim(s, "[]")
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t'
	})
	out := fields[:0]
	for _, f := range fields {
		if f = strings.Trim(f, `"'`); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// roleRank orders the roles a token can grant.
var roleRank = map[domain.Role]int{
	domain.RolePatient: 1,
	domain.RoleStaff:   2,
	domain.RoleAdmin:   3,
}

// highestRole returns the highest known role among groups, or "" if none is
// known. Group names compare case-insensitively.
func highestRole(groups []string) domain.Role {
	var best domain.Role
	for _, g := range groups {
		r := domain.Role(strings.ToLower(strings.TrimSpace(g)))
		if roleRank[r] > roleRank[best] {
			best = r
		}
	}
	return best
}

// splitList splits a comma-separated claim, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
