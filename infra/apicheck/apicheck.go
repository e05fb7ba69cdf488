// Package apicheck validates real HTTP responses against docs/openapi.yaml, so
// the published API description cannot drift from what the handlers send.
package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const docURL = "file:///openapi.json"

// Spec is a loaded OpenAPI 3.1 document.
type Spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	cache    map[string]*jsonschema.Schema
}

// Load reads an OpenAPI 3.1 YAML document.
func Load(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Round-trip through JSON so the schema library sees plain JSON values.
	js, err := json.Marshal(y)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, err
	}
	m, _ := doc.(map[string]any)
	return &Spec{doc: m, compiler: c, cache: map[string]*jsonschema.Schema{}}, nil
}

// Operations returns "METHOD /path" for every operation in the document.
func (s *Spec) Operations() []string {
	var out []string
	for path, item := range asMap(s.doc["paths"]) {
		for method := range asMap(item) {
			switch method {
			case "get", "put", "post", "patch", "delete":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	return out
}

// ValidateResponse checks a JSON response body for an operation (path template
// as in the document, e.g. /v1/appointments/{id}) and status. A status the
// operation does not declare falls back to "default"; none → error.
func (s *Spec) ValidateResponse(method, path string, status int, body []byte) error {
	op := asMap(asMap(asMap(s.doc["paths"])[path])[strings.ToLower(method)])
	if len(op) == 0 {
		return fmt.Errorf("%s %s is not in the API description", method, path)
	}
	code := strconv.Itoa(status)
	resp, ok := asMap(op["responses"])[code]
	if !ok {
		code = "default"
		if resp, ok = asMap(op["responses"])["default"]; !ok {
			return fmt.Errorf("%s %s: status %d is not described", method, path, status)
		}
	}
	ptr := "#/paths/" + escape(path) + "/" + strings.ToLower(method) + "/responses/" + code
	if ref, ok := asMap(resp)["$ref"].(string); ok {
		ptr = ref
		resp = s.resolve(ref)
	}
	if _, ok := asMap(asMap(asMap(resp)["content"])["application/json"])["schema"]; !ok {
		return fmt.Errorf("%s %s %d: no application/json schema", method, path, status)
	}
	sch, err := s.schema(ptr + "/content/application~1json/schema")
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %w", method, path, status, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s %s %d: %w", method, path, status, err)
	}
	return nil
}

func (s *Spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(docURL + ptr)
	if err != nil {
		return nil, err
	}
	s.cache[ptr] = sch
	return sch, nil
}

func (s *Spec) resolve(ref string) any {
	var cur any = s.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		cur = asMap(cur)[part]
	}
	return cur
}

func escape(p string) string { return strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1") }

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
