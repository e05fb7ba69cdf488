package httpapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSharedEventsAreServed runs every event of the repository's
// testdata/events (one payload 2.0 event per route, as the local gateway builds
// them) through the route its routeKey names. Each must reach its use case and
// succeed, so the adapter and the gateway agree on shapes, claims and bodies.
func TestSharedEventsAreServed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no shared events in testdata/events")
	}
	seen := map[string]bool{}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			h := newHarness()
			h.srv.cfg.MaxBodyBytes = 64 << 10
			rt, ok := Routes(h.svc)[ev.RouteKey]
			if !ok {
				t.Fatalf("no route for routeKey %q", ev.RouteKey)
			}
			seen[ev.RouteKey] = true
			resp := h.serve(t, rt, ev)
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Fatalf("%s: %d %s", ev.RouteKey, resp.StatusCode, resp.Body)
			}
			if rt.Name != "Health" && len(h.svc.calls) != 1 {
				t.Errorf("%d use-case calls, want 1", len(h.svc.calls))
			}
		})
	}
	for key := range Routes(&fakeSvc{}) {
		if !seen[key] {
			t.Logf("no shared event for %s", key)
		}
	}
}
