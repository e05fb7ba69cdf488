package localdev

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Roles a local token can carry in cognito:groups.
const (
	RolePatient = "patient"
	RoleStaff   = "staff"
	RoleAdmin   = "admin"
)

// DefaultPatientID is the custom:patient_id of a patient token issued without
// one, so that `curl -d '{"role":"patient"}'` gives a usable patient.
const DefaultPatientID = "p-1001"

// DefaultTokenLifetime is how long a local token is valid when
// TokenRequest.ExpiresInSeconds is zero.
const DefaultTokenLifetime = time.Hour

// TokenRequest describes a local access token, shaped like a Cognito user pool
// access token. It is also the JSON body of POST /_local/token.
type TokenRequest struct {
	// Role is "patient", "staff" or "admin"; it becomes cognito:groups [role].
	Role string `json:"role"`
	// Sub is the subject; default "local-<role>", or "local-patient-<patientId>"
	// for patients.
	Sub string `json:"sub,omitempty"`
	// PatientID becomes custom:patient_id; a patient token without one gets
	// DefaultPatientID.
	PatientID string `json:"patientId,omitempty"`
	// BranchIDs become custom:branch_ids, comma-joined (omitted when empty).
	BranchIDs []string `json:"branchIds,omitempty"`
	// ExpiresInSeconds is the lifetime from now; 0 means DefaultTokenLifetime.
	// A negative value gives a token that has already expired (for tests).
	ExpiresInSeconds int `json:"expiresInSeconds,omitempty"`
	// Claims are extra claims added last (they may override the ones above,
	// e.g. "aud" or "iss" to build a token the authorizer must refuse).
	Claims map[string]any `json:"claims,omitempty"`
}

// authority issues and verifies RS256 tokens the way the API Gateway JWT
// authorizer of template.yaml is configured: one issuer, one audience.
type authority struct {
	key      *rsa.PrivateKey
	kid      string
	issuer   string
	audience string
	now      func() time.Time
}

func newAuthority(issuer, audience string, now func() time.Time) (*authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("localdev: generate RSA key: %w", err)
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &authority{
		key:      key,
		kid:      base64.RawURLEncoding.EncodeToString(sum[:12]),
		issuer:   issuer,
		audience: audience,
		now:      now,
	}, nil
}

// claimsFor builds the claim set of a token request.
func (a *authority) claimsFor(req TokenRequest) (map[string]any, error) {
	switch req.Role {
	case RolePatient, RoleStaff, RoleAdmin:
	default:
		return nil, fmt.Errorf("role must be patient, staff or admin, not %q", req.Role)
	}
	now := a.now()
	life := DefaultTokenLifetime
	if req.ExpiresInSeconds != 0 {
		life = time.Duration(req.ExpiresInSeconds) * time.Second
	}
	patientID := req.PatientID
	if patientID == "" && req.Role == RolePatient {
		patientID = DefaultPatientID
	}
	sub := req.Sub
	if sub == "" {
		sub = "local-" + req.Role
		if req.Role == RolePatient {
			sub += "-" + patientID
		}
	}
	jti := make([]byte, 12)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	claims := map[string]any{
		"sub":            sub,
		"cognito:groups": []string{req.Role},
		"iss":            a.issuer,
		"aud":            a.audience,
		"client_id":      a.audience,
		"token_use":      "access",
		"iat":            now.Unix(),
		"exp":            now.Add(life).Unix(),
		"jti":            fmt.Sprintf("%x", jti),
	}
	if req.ExpiresInSeconds < 0 {
		// An already-expired token was issued before it expired.
		claims["iat"] = now.Add(life - time.Minute).Unix()
	}
	if patientID != "" {
		claims["custom:patient_id"] = patientID
	}
	if len(req.BranchIDs) > 0 {
		claims["custom:branch_ids"] = strings.Join(req.BranchIDs, ",")
	}
	for k, v := range req.Claims {
		claims[k] = v
	}
	return claims, nil
}

// issue signs a token for the request.
func (a *authority) issue(req TokenRequest) (string, error) {
	claims, err := a.claimsFor(req)
	if err != nil {
		return "", err
	}
	return signRS256(a.key, a.kid, claims)
}

// signRS256 builds a compact JWS (RS256) over the JSON of claims.
func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Reasons a token is refused; API Gateway answers every one with 401.
var (
	errNoToken     = errors.New("no bearer token")
	errMalformed   = errors.New("malformed token")
	errAlgorithm   = errors.New("unsupported algorithm")
	errKey         = errors.New("unknown signing key")
	errSignature   = errors.New("bad signature")
	errIssuer      = errors.New("wrong issuer")
	errAudience    = errors.New("wrong audience")
	errExpired     = errors.New("token expired")
	errNotYetValid = errors.New("token not valid yet")
)

// verify checks a token as the API Gateway JWT authorizer does: RSA signature
// by a known key, iss equal to the issuer, aud (or, without aud, client_id)
// matching the audience, exp in the future, nbf and iat not in the future. It
// returns the claims with JSON numbers kept as written.
func (a *authority) verify(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errMalformed
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, errMalformed
	}
	if header.Alg != "RS256" {
		return nil, errAlgorithm
	}
	if header.Kid != "" && header.Kid != a.kid {
		return nil, errKey
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errMalformed
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&a.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errSignature
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil || claims == nil {
		return nil, errMalformed
	}
	if iss, _ := claims["iss"].(string); iss != a.issuer {
		return nil, errIssuer
	}
	if !audienceMatches(claims, a.audience) {
		return nil, errAudience
	}
	now := a.now().Unix()
	exp, ok := numericClaim(claims["exp"])
	if !ok || exp <= now {
		return nil, errExpired
	}
	for _, name := range []string{"nbf", "iat"} {
		if v, present := claims[name]; present {
			t, ok := numericClaim(v)
			if !ok || t > now {
				return nil, errNotYetValid
			}
		}
	}
	return claims, nil
}

func audienceMatches(claims map[string]any, audience string) bool {
	switch aud := claims["aud"].(type) {
	case string:
		return aud == audience
	case []any:
		for _, v := range aud {
			if s, _ := v.(string); s == audience {
				return true
			}
		}
		return false
	case nil:
		cid, _ := claims["client_id"].(string)
		return cid == audience
	}
	return false
}

func numericClaim(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	return int64(f), err == nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// stringClaims renders verified claims the way API Gateway puts them into
// requestContext.authorizer.jwt.claims: every value becomes a string; strings
// stay as they are, numbers keep their JSON text, and arrays become a
// bracketed, space-separated list such as "[staff admin]" (API Gateway's
// rendering of cognito:groups; consumers must parse it, not JSON-decode it).
func stringClaims(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	return out
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}

// scopesOf returns the token's scopes (the space-separated "scope" claim, or
// "scp"), as API Gateway lists them in requestContext.authorizer.jwt.scopes.
func scopesOf(claims map[string]any) []string {
	for _, name := range []string{"scope", "scp"} {
		switch s := claims[name].(type) {
		case string:
			return strings.Fields(s)
		case []any:
			out := make([]string, 0, len(s))
			for _, e := range s {
				out = append(out, claimString(e))
			}
			return out
		}
	}
	return nil
}

// jwks returns the public key as a JSON Web Key Set.
func (a *authority) jwks() map[string]any {
	pub := a.key.PublicKey
	return map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"alg": "RS256",
		"use": "sig",
		"kid": a.kid,
		"n":   b64(pub.N.Bytes()),
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}
