// Package samtemplate reads template.yaml, the single source of truth for the
// system's wiring, so that the local platform and the tests use the same routes,
// tables, functions and environment as AWS SAM does.
//
// CloudFormation short-form tags (!Ref, !GetAtt, !Sub, !If, ...) are turned into
// their long form ({"Ref": x}, {"Fn::GetAtt": [a, b]}, ...).
package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM template.
type Template struct {
	Parameters map[string]Parameter
	Globals    map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
	Conditions map[string]any
	// Dir is the folder holding the template (the repository root).
	Dir string
	// Document is the whole template as plain values, intrinsics in long form
	// (what infra/schemacheck validates).
	Document map[string]any
}

// Parameter is a template parameter.
type Parameter struct {
	Type    string
	Default any
}

// Resource is a template resource.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	Condition  string
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := decode(&root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: top level is not a mapping", path)
	}
	abs, _ := filepath.Abs(filepath.Dir(path))
	t := &Template{
		Parameters: map[string]Parameter{},
		Globals:    mapOf(top["Globals"]),
		Resources:  map[string]Resource{},
		Outputs:    mapOf(top["Outputs"]),
		Conditions: mapOf(top["Conditions"]),
		Dir:        abs,
		Document:   top,
	}
	for name, p := range mapOf(top["Parameters"]) {
		pm := mapOf(p)
		t.Parameters[name] = Parameter{Type: str(pm["Type"]), Default: pm["Default"]}
	}
	for id, r := range mapOf(top["Resources"]) {
		rm := mapOf(r)
		if str(rm["Type"]) == "" {
			return nil, fmt.Errorf("%s: resource %s has no Type", path, id)
		}
		t.Resources[id] = Resource{
			LogicalID:  id,
			Type:       str(rm["Type"]),
			Properties: mapOf(rm["Properties"]),
			Metadata:   mapOf(rm["Metadata"]),
			Condition:  str(rm["Condition"]),
		}
	}
	return t, nil
}

// ResourcesOfType returns the resources of a type, sorted by logical id.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Function is an AWS::Serverless::Function with Globals.Function merged in.
type Function struct {
	LogicalID  string
	Properties map[string]any // merged with Globals.Function
	Metadata   map[string]any
	// Env is Environment.Variables (Globals first, then the function's own),
	// values still unresolved (strings or intrinsic maps).
	Env    map[string]any
	Events []Event
}

// Event is one event source of a function.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Route is an HttpApi event of a function.
type Route struct {
	Method     string
	Path       string
	Public     bool   // Auth.Authorizer NONE
	FunctionID string // logical id of the function
}

// Key is the API Gateway route key, e.g. "GET /v1/health".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Functions returns all serverless functions sorted by logical id.
func (t *Template) Functions() []Function {
	globals := mapOf(t.Globals["Function"])
	var out []Function
	for _, r := range t.ResourcesOfType("AWS::Serverless::Function") {
		props := map[string]any{}
		for k, v := range globals {
			props[k] = v
		}
		for k, v := range r.Properties {
			props[k] = v
		}
		env := map[string]any{}
		for k, v := range mapOf(mapOf(mapOf(globals["Environment"])["Variables"])) {
			env[k] = v
		}
		for k, v := range mapOf(mapOf(r.Properties["Environment"])["Variables"]) {
			env[k] = v
		}
		f := Function{LogicalID: r.LogicalID, Properties: props, Metadata: r.Metadata, Env: env}
		names := sortedKeys(mapOf(r.Properties["Events"]))
		for _, name := range names {
			em := mapOf(mapOf(r.Properties["Events"])[name])
			f.Events = append(f.Events, Event{Name: name, Type: str(em["Type"]), Properties: mapOf(em["Properties"])})
		}
		out = append(out, f)
	}
	return out
}

// Function returns the function with the logical id.
func (t *Template) Function(id string) (Function, bool) {
	for _, f := range t.Functions() {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// Dir is the function's main package, derived from the logical id the same way
// the Makefile does: "BookAppointmentFunction" → "functions/book-appointment".
func (f Function) Dir() string {
	return "functions/" + FunctionName(f.LogicalID)
}

// FunctionName turns a logical id into the folder name: drop the "Function"
// suffix, kebab-case the rest.
func FunctionName(logicalID string) string {
	base := strings.TrimSuffix(logicalID, "Function")
	return strings.ToLower(camelBoundary.ReplaceAllString(base, "${1}-${2}"))
}

// Routes returns the HttpApi routes of the function.
func (f Function) Routes() []Route {
	var out []Route
	for _, e := range f.Events {
		if e.Type != "HttpApi" {
			continue
		}
		auth := mapOf(e.Properties["Auth"])
		out = append(out, Route{
			Method:     strings.ToUpper(str(e.Properties["Method"])),
			Path:       str(e.Properties["Path"]),
			Public:     str(auth["Authorizer"]) == "NONE",
			FunctionID: f.LogicalID,
		})
	}
	return out
}

// Routes returns every HttpApi route of the template sorted by path then method.
func (t *Template) Routes() []Route {
	var out []Route
	for _, f := range t.Functions() {
		out = append(out, f.Routes()...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Resolver gives values for references while resolving intrinsics locally.
type Resolver struct {
	// Ref returns the value of !Ref name for resources; ok false if unknown.
	Ref func(name string) (string, bool)
	// Params overrides parameter defaults.
	Params map[string]string
	// Region for AWS::Region.
	Region string
}

// ResolveEnv resolves a function's environment to plain strings. Variables
// whose value resolves to AWS::NoValue are dropped. Unknown references are errors
// so that a typo in the template is caught.
func (t *Template) ResolveEnv(f Function, r Resolver) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range f.Env {
		s, present, err := t.Resolve(v, r)
		if err != nil {
			return nil, fmt.Errorf("%s: env %s: %w", f.LogicalID, k, err)
		}
		if present {
			out[k] = s
		}
	}
	return out, nil
}

// Resolve evaluates the intrinsics the local platform supports (Ref, Fn::If with
// Fn::Equals/Fn::Not conditions, Fn::Sub of refs, Fn::GetAtt via Ref of
// "Name.Attr"). present is false for AWS::NoValue.
func (t *Template) Resolve(v any, r Resolver) (value string, present bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", true, nil
	case string:
		return x, true, nil
	case bool, int, float64:
		return fmt.Sprint(x), true, nil
	case map[string]any:
		if ref, ok := x["Ref"]; ok {
			return t.ref(str(ref), r)
		}
		if args, ok := x["Fn::If"].([]any); ok && len(args) == 3 {
			cond, err := t.condition(str(args[0]), r)
			if err != nil {
				return "", false, err
			}
			if cond {
				return t.Resolve(args[1], r)
			}
			return t.Resolve(args[2], r)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			if r.Ref != nil {
				if s, ok := r.Ref(str(ga[0]) + "." + str(ga[1])); ok {
					return s, true, nil
				}
			}
			return "", false, fmt.Errorf("cannot resolve Fn::GetAtt %v", ga)
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			var firstErr error
			out := subVar.ReplaceAllStringFunc(sub, func(m string) string {
				name := m[2 : len(m)-1]
				s, _, err := t.ref(name, r)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				return s
			})
			return out, true, firstErr
		}
	}
	return "", false, fmt.Errorf("unsupported value %v", v)
}

var subVar = regexp.MustCompile(`\$\{[A-Za-z0-9:._]+\}`)

func (t *Template) ref(name string, r Resolver) (string, bool, error) {
	switch name {
	case "AWS::NoValue":
		return "", false, nil
	case "AWS::Region":
		return r.Region, true, nil
	case "AWS::AccountId":
		return "000000000000", true, nil
	case "AWS::Partition":
		return "aws", true, nil
	case "AWS::StackName":
		return "local", true, nil
	}
	if p, ok := t.Parameters[name]; ok {
		if v, ok := r.Params[name]; ok {
			return v, true, nil
		}
		if list, ok := p.Default.([]any); ok {
			parts := make([]string, len(list))
			for i, x := range list {
				parts[i] = fmt.Sprint(x)
			}
			return strings.Join(parts, ","), true, nil
		}
		if p.Default == nil {
			return "", true, nil
		}
		return fmt.Sprint(p.Default), true, nil
	}
	if _, ok := t.Resources[name]; ok && r.Ref != nil {
		if s, ok := r.Ref(name); ok {
			return s, true, nil
		}
	}
	return "", false, fmt.Errorf("unresolvable reference %q", name)
}

func (t *Template) condition(name string, r Resolver) (bool, error) {
	c, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	return t.evalCond(c, r)
}

func (t *Template) evalCond(c any, r Resolver) (bool, error) {
	m := mapOf(c)
	if args, ok := m["Fn::Not"].([]any); ok && len(args) == 1 {
		v, err := t.evalCond(args[0], r)
		return !v, err
	}
	if args, ok := m["Fn::Equals"].([]any); ok && len(args) == 2 {
		a, _, err := t.Resolve(args[0], r)
		if err != nil {
			return false, err
		}
		b, _, err := t.Resolve(args[1], r)
		return a == b, err
	}
	if cond, ok := m["Condition"]; ok {
		return t.condition(str(cond), r)
	}
	return false, fmt.Errorf("unsupported condition %v", c)
}

// decode turns a yaml node into plain Go values, expanding CloudFormation tags.
func decode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decode(n.Content[0])
	case yaml.AliasNode:
		return decode(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := decode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := decode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, err
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	tag := n.Tag[1:]
	switch tag {
	case "Ref":
		return map[string]any{"Ref": v}, nil
	case "Condition":
		return map[string]any{"Condition": v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			parts := strings.SplitN(s, ".", 2)
			args := make([]any, len(parts))
			for i, p := range parts {
				args[i] = p
			}
			return map[string]any{"Fn::GetAtt": args}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + tag: v}, nil
	}
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Str returns v as a string ("" for nil); exported for callers walking Properties.
func Str(v any) string { return str(v) }

// Map returns v as a map (empty if it is not one).
func Map(v any) map[string]any { return mapOf(v) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
