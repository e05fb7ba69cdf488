package schemacheck

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schemas/sam.schema.json schemas/cloudformation.schema.json
var schemaFiles embed.FS

// URLs under which the two schemas are registered with the compiler; a SAM
// pass-through property refers to the CloudFormation one relatively.
const (
	samURL = "https://schemas.labchain.invalid/sam.schema.json"
	cfnURL = "https://schemas.labchain.invalid/cloudformation.schema.json"
	// intrinsicDef is the definition added to both schemas: a one-key object
	// naming an intrinsic function, accepted wherever a value is expected.
	intrinsicDef = "__intrinsic"
)

// intrinsicKeys are the intrinsic functions CloudFormation accepts in
// resource properties (plus Fn::Transform for macros).
var intrinsicKeys = `^(Ref|Fn::(And|Base64|Cidr|Equals|FindInMap|ForEach|GetAtt|GetAZs|If|ImportValue|Join|Length|Not|Or|Select|Split|Sub|ToJsonString|Transform))$`

func intrinsicSchema() map[string]any {
	return map[string]any{
		"type":                 "object",
		"minProperties":        1,
		"maxProperties":        1,
		"patternProperties":    map[string]any{intrinsicKeys: map[string]any{}},
		"additionalProperties": false,
	}
}

func readSchema(name string) (map[string]any, error) {
	b, err := schemaFiles.ReadFile("schemas/" + name)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON object", name)
	}
	return m, nil
}

// lookAhead is the one pattern of sam.schema.json that Go's regexp (RE2)
// cannot compile: "a resource type that is not a SAM type".
const lookAhead = "^(?!AWS::Serverless::).+$"

// notPrefixPattern returns an RE2 pattern equivalent to ^(?!prefix).+$: a
// non-empty line that does not start with prefix. It is a proper prefix of
// prefix, or differs from prefix at some first position.
func notPrefixPattern(prefix string) string {
	var alts []string
	for i := 1; i < len(prefix); i++ {
		alts = append(alts, regexp.QuoteMeta(prefix[:i])) // a proper prefix, nothing after
	}
	for i := 0; i < len(prefix); i++ {
		alts = append(alts, regexp.QuoteMeta(prefix[:i])+"[^"+regexp.QuoteMeta(prefix[i:i+1])+"\n].*")
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

// passedDirectly matches SAM's documentation of a property that becomes a
// CloudFormation property unchanged, for the properties (Timeout, MemorySize,
// Layers, ...) whose schema lacks the __samPassThrough annotation.
var passedDirectly = regexp.MustCompile("passed directly to the \\[`([A-Za-z0-9]+)`\\]\\([^)]*\\) property of an? `(AWS::[A-Za-z0-9:]+)` resource")

// passThrough is a SAM property schema and the path of the CloudFormation
// schema of the property it becomes.
type passThrough struct {
	schema map[string]any
	path   []any
}

// passThroughs finds SAM's pass-through properties: annotated with
// __samPassThrough.schemaPath, or documented as "passed directly to".
func passThroughs(sam map[string]any) []passThrough {
	var out []passThrough
	walk(sam, func(m map[string]any) {
		if pt, ok := m["__samPassThrough"].(map[string]any); ok {
			if path, _ := pt["schemaPath"].([]any); len(path) > 1 {
				out = append(out, passThrough{m, path})
			}
			return
		}
		md, _ := m["markdownDescription"].(string)
		if g := passedDirectly.FindStringSubmatch(md); g != nil {
			out = append(out, passThrough{m, []any{"definitions", g[2], "properties", "Properties", "properties", g[1]}})
		}
	})
	return out
}

// prepareSAM rewrites the look-ahead pattern, links every pass-through
// property to a copy of the CloudFormation schema of the property it becomes,
// and accepts intrinsics. It returns the number of pass-through properties
// linked and those whose path the CloudFormation schema does not have (newer
// than the goformation release).
func prepareSAM(sam, cfn map[string]any) (linked int, unresolved []string, err error) {
	rewritten := 0
	walk(sam, func(m map[string]any) {
		if p, ok := m["pattern"].(string); ok && p == lookAhead {
			m["pattern"] = notPrefixPattern("AWS::Serverless::")
			rewritten++
		}
	})
	if rewritten == 0 {
		return 0, nil, fmt.Errorf("sam.schema.json: the look-ahead pattern %q is gone; check notPrefixPattern is still needed", lookAhead)
	}
	for _, pt := range passThroughs(sam) {
		target, ok := lookup(cfn, pt.path)
		if !ok {
			unresolved = append(unresolved, fmt.Sprint(pt.path))
			continue
		}
		pt.schema["allOf"] = append(asSlice(pt.schema["allOf"]), relinkRefs(deepCopy(target)))
		linked++
	}
	defs := sam["definitions"].(map[string]any)
	allowIntrinsics(sam)
	defs[intrinsicDef] = intrinsicSchema()
	return linked, unresolved, nil
}

// prepareCFN accepts intrinsics and drops the file's bogus $id (it claims
// the draft-04 meta-schema's URL).
func prepareCFN(cfn map[string]any) {
	delete(cfn, "$id")
	allowIntrinsics(cfn)
	cfn["definitions"].(map[string]any)[intrinsicDef] = intrinsicSchema()
}

// relinkRefs points the "#/definitions/X" references of a schema copied from
// the CloudFormation schema back at that schema.
func relinkRefs(v any) any {
	walk(v, func(m map[string]any) {
		if r, ok := m["$ref"].(string); ok && strings.HasPrefix(r, "#/") {
			m["$ref"] = "cloudformation.schema.json" + r
		}
	})
	return v
}

// allowIntrinsics makes every schema that constrains a value (type, enum,
// pattern) also accept an intrinsic function: {"anyOf": [schema, intrinsic]}.
// Objects too: `!If [cond, {...}, !Ref AWS::NoValue]` stands for an object.
func allowIntrinsics(doc map[string]any) {
	ref := map[string]any{"$ref": "#/definitions/" + intrinsicDef}
	var visit func(v any) any
	visit = func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for _, kw := range []string{"properties", "patternProperties", "definitions"} {
			if sub, ok := m[kw].(map[string]any); ok {
				for k, s := range sub {
					sub[k] = visit(s)
				}
			}
		}
		for _, kw := range []string{"additionalProperties", "items", "not", "additionalItems"} {
			switch s := m[kw].(type) {
			case map[string]any:
				m[kw] = visit(s)
			case []any:
				for i := range s {
					s[i] = visit(s[i])
				}
			}
		}
		for _, kw := range []string{"anyOf", "allOf", "oneOf"} {
			if s, ok := m[kw].([]any); ok {
				for i := range s {
					s[i] = visit(s[i])
				}
			}
		}
		_, t := m["type"]
		_, e := m["enum"]
		_, p := m["pattern"]
		if !t && !e && !p {
			return m
		}
		return map[string]any{"anyOf": []any{m, ref}}
	}
	defs := doc["definitions"].(map[string]any)
	for k, s := range defs {
		defs[k] = visit(s)
	}
	for _, kw := range []string{"properties", "patternProperties"} {
		if sub, ok := doc[kw].(map[string]any); ok {
			for k, s := range sub {
				sub[k] = visit(s)
			}
		}
	}
}

// walk calls f on every object in v, depth first.
func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

func lookup(doc map[string]any, path []any) (any, bool) {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[fmt.Sprint(p)]; !ok {
			return nil, false
		}
	}
	return cur, len(path) > 0
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, c := range x {
			s[i] = deepCopy(c)
		}
		return s
	}
	return v
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
