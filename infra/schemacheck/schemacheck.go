// Package schemacheck validates template.yaml against AWS's own resource
// schemas, where no cfn-lint or SAM CLI can run: the SAM schema
// (schemas/sam.schema.json, from aws/serverless-application-model) for the
// AWS::Serverless::* resources and Globals, the CloudFormation schema
// (schemas/cloudformation.schema.json, trimmed from the goformation module) for
// every other resource, each against its own #/definitions/<Type>. SAM
// pass-through properties (Timeout, Environment, Layers, ...) are checked
// against the CloudFormation property they become.
//
// Intrinsic functions ({"Ref": x}, {"Fn::If": [...]}, ...) are accepted
// wherever a value is expected; their arguments are not checked here. A
// misspelt property, a wrong type or a value outside an enum fails.
// schemas/README.md says where the files come from and how to refresh them.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Problem is one finding: where in the template and what is wrong.
type Problem struct {
	Resource string // logical id, or "Globals" / "template"
	Path     string // JSON pointer inside it
	Message  string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s%s: %s", p.Resource, p.Path, p.Message)
}

// Checker holds the compiled schemas.
type Checker struct {
	c        *jsonschema.Compiler
	root     *jsonschema.Schema            // the whole SAM template
	globals  *jsonschema.Schema            // SAM Globals
	samTypes map[string]*jsonschema.Schema // AWS::Serverless::X -> its resource schema
	cfnTypes map[string]bool               // types the CloudFormation copy defines
	cfn      map[string]*jsonschema.Schema // compiled on first use
	// Linked and Unresolved count SAM pass-through properties checked against
	// CloudFormation and those the CloudFormation copy is too old to know.
	Linked     int
	Unresolved []string
}

// New compiles the embedded schemas.
func New() (*Checker, error) {
	sam, err := readSchema("sam.schema.json")
	if err != nil {
		return nil, err
	}
	cfn, err := readSchema("cloudformation.schema.json")
	if err != nil {
		return nil, err
	}
	ch := &Checker{samTypes: map[string]*jsonschema.Schema{}, cfnTypes: map[string]bool{}, cfn: map[string]*jsonschema.Schema{}}
	for name, d := range cfn["definitions"].(map[string]any) {
		if _, ok := d.(map[string]any)["properties"].(map[string]any)["Type"]; ok && strings.Contains(name, "::") {
			ch.cfnTypes[name] = true
		}
	}
	// Which SAM definition describes which AWS::Serverless type, read from the
	// root's Resources anyOf before the intrinsic wrapping changes its shape.
	samDefs := map[string]string{}
	samResources := sam["properties"].(map[string]any)["Resources"].(map[string]any)
	for _, b := range samResources["additionalProperties"].(map[string]any)["anyOf"].([]any) {
		ref, _ := b.(map[string]any)["$ref"].(string)
		name := strings.TrimPrefix(ref, "#/definitions/")
		def, _ := sam["definitions"].(map[string]any)[name].(map[string]any)
		typ, _ := lookup(def, []any{"properties", "Type", "enum"})
		if enum, ok := typ.([]any); ok && len(enum) == 1 {
			samDefs[fmt.Sprint(enum[0])] = name
		}
	}
	if len(samDefs) == 0 {
		return nil, errors.New("sam.schema.json: no AWS::Serverless resource definitions found")
	}
	ch.Linked, ch.Unresolved, err = prepareSAM(sam, cfn)
	if err != nil {
		return nil, err
	}
	prepareCFN(cfn)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource(samURL, sam); err != nil {
		return nil, err
	}
	if err := c.AddResource(cfnURL, cfn); err != nil {
		return nil, err
	}
	ch.c = c
	if ch.root, err = c.Compile(samURL); err != nil {
		return nil, fmt.Errorf("compile sam.schema.json: %w", err)
	}
	if ch.globals, err = c.Compile(samURL + "#/definitions/__main____Globals"); err != nil {
		return nil, err
	}
	for typ, name := range samDefs {
		if ch.samTypes[typ], err = c.Compile(samURL + "#/definitions/" + name); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// SAMTypes returns the AWS::Serverless types the SAM schema describes.
func (ch *Checker) SAMTypes() []string {
	var out []string
	for t := range ch.samTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// HasCloudFormationType reports whether the CloudFormation copy defines typ.
func (ch *Checker) HasCloudFormationType(typ string) bool { return ch.cfnTypes[typ] }

// Validate checks a template (as decoded by infra/samtemplate: plain values,
// intrinsics in long form). Every resource is checked against the schema of
// its type; a type the project's schema copy lacks is a problem (refresh the
// copy, see schemas/README.md).
func (ch *Checker) Validate(doc map[string]any) ([]Problem, error) {
	inst, err := normalise(doc)
	if err != nil {
		return nil, err
	}
	top := inst.(map[string]any)
	var out []Problem
	if g, ok := top["Globals"]; ok {
		out = append(out, problems("Globals", ch.globals.Validate(g))...)
	}
	resources, _ := top["Resources"].(map[string]any)
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, _ := resources[id].(map[string]any)
		typ, _ := r["Type"].(string)
		switch {
		case typ == "":
			out = append(out, Problem{id, "", "no Type"})
		case strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource":
			// a custom resource's properties are its provider's business
		case strings.HasPrefix(typ, "AWS::Serverless::"):
			s, ok := ch.samTypes[typ]
			if !ok {
				out = append(out, Problem{id, "/Type", fmt.Sprintf("%s is not a SAM resource type", typ)})
				continue
			}
			out = append(out, problems(id, s.Validate(r))...)
		default:
			s, err := ch.cfnSchema(typ)
			if err != nil {
				out = append(out, Problem{id, "/Type", err.Error()})
				continue
			}
			out = append(out, problems(id, s.Validate(r))...)
		}
	}
	if len(out) == 0 {
		// The whole document against SAM's root schema (its any-CloudFormation
		// branch uses the rewritten look-ahead pattern).
		out = append(out, problems("template", ch.root.Validate(top))...)
	}
	return out, nil
}

func (ch *Checker) cfnSchema(typ string) (*jsonschema.Schema, error) {
	if s, ok := ch.cfn[typ]; ok {
		return s, nil
	}
	if !ch.cfnTypes[typ] {
		return nil, fmt.Errorf("%s is not in infra/schemacheck/schemas/cloudformation.schema.json (a misspelt type, or refresh the copy: go run ./infra/cmd/schemarefresh)", typ)
	}
	s, err := ch.c.Compile(cfnURL + "#/definitions/" + typ)
	if err != nil {
		return nil, err
	}
	ch.cfn[typ] = s
	return s, nil
}

// normalise turns Go values (ints from YAML, ...) into the JSON values the
// validator expects.
func normalise(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// problems flattens a validation error into its leaves, leaving out the
// "is not an intrinsic function" alternatives every value also has.
func problems(resource string, err error) []Problem {
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return []Problem{{resource, "", err.Error()}}
	}
	seen := map[string]bool{}
	var out []Problem
	for _, leaf := range leaves(ve) {
		p := Problem{resource, "/" + strings.Join(leaf.InstanceLocation, "/"), leafMessage(leaf)}
		if !seen[p.String()] {
			seen[p.String()] = true
			out = append(out, p)
		}
	}
	return out
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	var causes []*jsonschema.ValidationError
	for _, c := range e.Causes {
		if !isIntrinsicBranch(c) {
			causes = append(causes, c)
		}
	}
	if len(causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func isIntrinsicBranch(e *jsonschema.ValidationError) bool {
	return strings.Contains(e.SchemaURL, "/definitions/"+intrinsicDef)
}

func leafMessage(e *jsonschema.ValidationError) string {
	msg := e.Error()
	// Error() starts with "jsonschema validation failed with '<url>'\n- at '<loc>': "
	if i := strings.LastIndex(msg, "': "); i >= 0 {
		msg = msg[i+3:]
	}
	return strings.TrimSpace(msg)
}
