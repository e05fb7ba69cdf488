package localdev

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// localPrefix is the path prefix of the platform's own endpoints. They exist
// only locally; the API never routes it.
const localPrefix = "/_local"

// serveLocal serves the platform's own endpoints:
//
//	POST /_local/token                              TokenRequest → {"token": "..."}
//	GET  /_local/.well-known/jwks.json              the signing key
//	GET  /_local/.well-known/openid-configuration   issuer and jwks_uri
//	GET  /_local/routes                             the route table
//	GET  /_local/queues                             queue logical id → URL
//	GET  /_local/schedules                          the schedules and their next fire time
//	POST /_local/schedules/{id}/run                 fire a schedule now: the function's response
//	POST|GET|DELETE /_local/messages                the message sink (sink.go)
//	POST|GET|DELETE /_local/faults                  the sink's fault injection
func (g *gateway) serveLocal(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, localPrefix)
	if g.extra != nil && g.extra.serveLocalExtra(w, r, path) {
		return
	}
	switch path {
	case "/token":
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "use POST"})
			return
		}
		var req TokenRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be a JSON token request: " + err.Error()})
			return
		}
		token, err := g.authority.issue(req)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": token})
	case "/.well-known/jwks.json":
		writeJSON(w, http.StatusOK, g.authority.jwks())
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                g.authority.issuer,
			"jwks_uri":                              g.authority.issuer + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/routes":
		type routeInfo struct {
			RouteKey string `json:"routeKey"`
			Function string `json:"function"`
			Auth     bool   `json:"auth"`
		}
		var out []routeInfo
		for _, cr := range g.router.routes {
			out = append(out, routeInfo{RouteKey: cr.route.Key(), Function: cr.route.FunctionID, Auth: g.auth[cr.route.Key()]})
		}
		writeJSON(w, http.StatusOK, map[string]any{"routes": out})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(bodyInternalError)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
