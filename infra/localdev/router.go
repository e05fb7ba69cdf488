package localdev

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/labchain/appointments/infra/samtemplate"
)

// router selects the route of a request the way an HTTP API does: a literal
// segment beats a path variable, a path variable beats a greedy {name+}
// variable (which matches one or more trailing segments), and an exact method
// beats ANY.
type router struct {
	routes []compiledRoute
}

type compiledRoute struct {
	route    samtemplate.Route
	segments []segment
}

type segmentKind int

const (
	literal segmentKind = iota
	variable
	greedy
)

type segment struct {
	kind segmentKind
	text string // literal text or variable name
}

func newRouter(routes []samtemplate.Route) (*router, error) {
	rt := &router{}
	seen := map[string]string{}
	for _, r := range routes {
		if prev, dup := seen[r.Key()]; dup {
			return nil, fmt.Errorf("route %q is served by both %s and %s", r.Key(), prev, r.FunctionID)
		}
		seen[r.Key()] = r.FunctionID
		segs, err := parsePath(r.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: route %q: %w", r.FunctionID, r.Key(), err)
		}
		rt.routes = append(rt.routes, compiledRoute{route: r, segments: segs})
	}
	return rt, nil
}

func parsePath(path string) ([]segment, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path must start with /")
	}
	parts := splitPath(path)
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("greedy variable %s must be the last segment", p)
			}
			segs = append(segs, segment{kind: greedy, text: p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			segs = append(segs, segment{kind: variable, text: p[1 : len(p)-1]})
		default:
			segs = append(segs, segment{kind: literal, text: p})
		}
	}
	return segs, nil
}

func splitPath(path string) []string {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// match returns the best route for method and the escaped request path, with
// its (unescaped) path parameters.
func (rt *router) match(method, escapedPath string) (samtemplate.Route, map[string]string, bool) {
	parts := splitPath(escapedPath)
	var (
		best       *compiledRoute
		bestParams map[string]string
		bestScore  []int
	)
	for i := range rt.routes {
		cr := &rt.routes[i]
		if cr.route.Method != method && cr.route.Method != "ANY" {
			continue
		}
		params, score, ok := cr.matchPath(parts)
		if !ok {
			continue
		}
		if cr.route.Method == "ANY" {
			score = append(score, 1)
		} else {
			score = append(score, 0)
		}
		if best == nil || lessScore(score, bestScore) {
			best, bestParams, bestScore = cr, params, score
		}
	}
	if best == nil {
		return samtemplate.Route{}, nil, false
	}
	return best.route, bestParams, true
}

func (cr *compiledRoute) matchPath(parts []string) (map[string]string, []int, bool) {
	var params map[string]string
	score := make([]int, 0, len(cr.segments))
	for i, seg := range cr.segments {
		if seg.kind == greedy {
			rest := strings.Join(parts[min(i, len(parts)):], "/")
			if rest == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[seg.text] = unescape(rest)
			score = append(score, int(greedy))
			return params, score, true
		}
		if i >= len(parts) {
			return nil, nil, false
		}
		switch seg.kind {
		case literal:
			if unescape(parts[i]) != seg.text {
				return nil, nil, false
			}
		case variable:
			if parts[i] == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[seg.text] = unescape(parts[i])
		}
		score = append(score, int(seg.kind))
	}
	if len(parts) != len(cr.segments) {
		return nil, nil, false
	}
	return params, score, true
}

// lessScore compares segment kinds left to right; lower (more specific) wins.
func lessScore(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) > len(b)
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
