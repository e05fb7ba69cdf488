package outbox

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/strictjson"
)

// Targets: the destinations an event can be routed to. Each is a queue whose
// URL comes from the function's configuration (see QueueURLs).
const (
	// TargetNotifications is the notification consumer's queue
	// (NOTIFICATIONS_QUEUE_URL): confirmations and alerts to patients.
	TargetNotifications = "notifications"
	// TargetAppointmentEvents is the queue of outbound appointment events
	// (APPOINTMENT_EVENTS_QUEUE_URL) for LIS, POS and analytics.
	TargetAppointmentEvents = "appointment-events"
)

// KnownTargets returns every target name a routing table may use.
func KnownTargets() []string { return []string{TargetNotifications, TargetAppointmentEvents} }

// QueueURLs maps each known target to its queue URL in cfg (empty when the
// variable is unset; config.Config.RequireQueues catches that at cold start).
func QueueURLs(cfg config.Config) map[string]string {
	return map[string]string{
		TargetNotifications:     cfg.NotificationsQueueURL,
		TargetAppointmentEvents: cfg.AppointmentEventsQueueURL,
	}
}

//go:embed routes.json
var routesJSON []byte

// Routes maps an event type to the targets it is published to (sorted,
// distinct, at least one).
type Routes map[string][]string

// Targets returns the targets of an event type; nil when it is not routed.
func (r Routes) Targets(eventType string) []string { return r[eventType] }

// DefaultRoutes returns the routing table embedded from routes.json.
func DefaultRoutes() (Routes, error) { return ParseRoutes(routesJSON, KnownTargets()) }

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// ParseRoutes reads a routing table: a JSON object with an optional
// "description" string and "routes", an object from event type to a
// non-empty list of targets. It refuses unknown members, event types given
// twice or not of the form "word.word", empty target lists, targets listed
// twice for one type, and targets not in known.
func ParseRoutes(data []byte, known []string) (Routes, error) {
	var doc struct {
		Description string          `json:"description"`
		Routes      json.RawMessage `json:"routes"`
	}
	if err := strictjson.Decode(data, &doc, strictjson.Options{}); err != nil {
		return nil, fmt.Errorf("outbox: routes: %w", err)
	}
	keys, err := objectKeys(doc.Routes)
	if err != nil {
		return nil, fmt.Errorf("outbox: routes: %w", err)
	}
	var raw map[string][]string
	if err := json.Unmarshal(doc.Routes, &raw); err != nil {
		return nil, fmt.Errorf("outbox: routes: %w", err)
	}
	out := make(Routes, len(raw))
	seen := map[string]bool{}
	for _, typ := range keys {
		if seen[typ] {
			return nil, fmt.Errorf("outbox: routes: event type %q given twice", typ)
		}
		seen[typ] = true
		if !eventTypeRE.MatchString(typ) {
			return nil, fmt.Errorf("outbox: routes: %q is not an event type (word.word)", typ)
		}
		targets := raw[typ]
		if len(targets) == 0 {
			return nil, fmt.Errorf("outbox: routes: %s has no targets", typ)
		}
		sorted := slices.Clone(targets)
		sort.Strings(sorted)
		for i, t := range sorted {
			if !slices.Contains(known, t) {
				return nil, fmt.Errorf("outbox: routes: %s: unknown target %q (known: %v)", typ, t, known)
			}
			if i > 0 && sorted[i-1] == t {
				return nil, fmt.Errorf("outbox: routes: %s: target %q listed twice", typ, t)
			}
		}
		out[typ] = sorted
	}
	return out, nil
}

// objectKeys returns the member names of a JSON object in order, duplicates
// included (encoding/json would silently keep the last).
func objectKeys(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf(`"routes" must be an object`)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
