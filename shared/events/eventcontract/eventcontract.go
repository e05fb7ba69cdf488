// Package eventcontract checks outbound events against their contract: the
// JSON Schemas (draft 2020-12) in docs/contracts/events, one per event type,
// with shared definitions. Tests use it (shared/events, the end-to-end test);
// no function links it.
package eventcontract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// DefsFile is the file of the shared definitions in the contract folder.
const DefsFile = "appointment-events.v1.defs.json"

// SchemaFile returns the schema file of an event type, e.g.
// "appointment.booked.v1.schema.json".
func SchemaFile(eventType string) string { return eventType + ".v1.schema.json" }

// Contract holds the compiled schema of every event type.
type Contract struct {
	byType map[string]*jsonschema.Schema
}

// Load compiles the shared definitions and every "*.v1.schema.json" in dir
// (each checked against the draft 2020-12 meta-schema, formats asserted).
func Load(dir string) (*Contract, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	ids := map[string]string{} // event type → $id
	for _, f := range files {
		doc, err := readJSON(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		m, _ := doc.(map[string]any)
		id, _ := m["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s: no $id", f)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if name := filepath.Base(f); strings.HasSuffix(name, ".v1.schema.json") {
			ids[strings.TrimSuffix(name, ".v1.schema.json")] = id
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("eventcontract: no schemas in %s", dir)
	}
	out := &Contract{byType: map[string]*jsonschema.Schema{}}
	for typ, id := range ids {
		if out.byType[typ], err = c.Compile(id); err != nil {
			return nil, fmt.Errorf("%s: %w", SchemaFile(typ), err)
		}
	}
	return out, nil
}

func readJSON(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Types returns the event types that have a schema, sorted.
func (c *Contract) Types() []string {
	out := make([]string, 0, len(c.byType))
	for t := range c.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Validate checks a message body (a CloudEvent JSON) against the schema of
// its type; a type without a schema is an error.
func (c *Contract) Validate(body []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("eventcontract: not a JSON object: %w", err)
	}
	s, ok := c.byType[head.Type]
	if !ok {
		return fmt.Errorf("eventcontract: event type %q has no schema", head.Type)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s: %w", head.Type, err)
	}
	return nil
}
