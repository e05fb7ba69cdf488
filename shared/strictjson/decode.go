package strictjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// Decode parses body (see Parse), checks the tree against the type v points
// to, and decodes it into v with encoding/json. The check refuses a member
// name that is not a field of its object's type (UnknownMember), or is one
// only up to case (WrongCase), and a value of the wrong JSON type for its
// field (WrongType), naming the member's path. Problems are reported in
// member-name order within an object, so the same body always gets the same
// error.
//
// JSON null is accepted for any field and leaves it as it is, as in
// encoding/json. A type with its own UnmarshalJSON method is not looked into:
// its method decides, and an error it returns is an InvalidValue *Error that
// wraps it. v must be a non-nil pointer; every error is an *Error.
func Decode(body []byte, v any, o Options) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || reflect.ValueOf(v).IsNil() {
		return &Error{Kind: InvalidValue, Err: fmt.Errorf("strictjson: Decode needs a non-nil pointer, not %v", t)}
	}
	tree, err := Parse(body, o)
	if err != nil {
		return err
	}
	if err := check(tree, t.Elem(), "", 0); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return unmarshalError(err)
	}
	return nil
}

// unmarshalError turns what encoding/json returned after the check passed
// into an *Error by its type: a type error the check did not foresee (a
// non-empty interface, say) or an error of the target's own decoding.
func unmarshalError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &Error{Kind: WrongType, Path: typ.Field, Want: Describe(typ.Type), Err: err}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &Error{Kind: Syntax, Offset: syn.Offset}
	}
	return &Error{Kind: InvalidValue, Err: err}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
	numberType      = reflect.TypeFor[json.Number]()
)

// implements reports whether t or *t has the method set of iface (encoding/json
// calls pointer methods on the addressable values it decodes into).
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// maxTypeDepth stops the check at recursive types nested absurdly deep;
// Parse's MaxDepth already bounds the tree.
const maxTypeDepth = 1 << 10

// check compares the tree value v with the Go type t at path.
func check(v any, t reflect.Type, path string, depth int) *Error {
	if v == nil || depth > maxTypeDepth {
		return nil
	}
	// A pointer decodes as what it points to (only named non-pointer types
	// have methods, and implements looks at pointer receivers too).
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			return wrongType(path, t)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return wrongType(path, t)
		}
		return nil
	case t == numberType:
		if _, ok := v.(json.Number); !ok {
			return wrongType(path, t)
		}
		return nil
	case implements(t, jsonUnmarshaler):
		return nil // its own method decides
	case implements(t, textUnmarshaler):
		if _, ok := v.(string); !ok {
			return wrongType(path, t)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrongType(path, t)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrongType(path, t)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return wrongType(path, t)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return wrongType(path, t)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := v.(json.Number)
		if !ok {
			return wrongType(path, t)
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return wrongType(path, t)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return wrongType(path, t)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return wrongType(path, t)
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); ok {
				return nil // base64; encoding/json decides
			}
		}
		arr, ok := v.([]any)
		if !ok {
			return wrongType(path, t)
		}
		for i, e := range arr {
			if err := check(e, t.Elem(), index(path, i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, t)
		}
		for _, name := range sortedNames(obj) {
			if err := check(obj[name], t.Elem(), join(path, name), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, t)
		}
		fs := fieldsOf(t)
		for _, name := range sortedNames(obj) {
			f, ok := fs.exact[name]
			if !ok {
				p := join(path, name)
				if right := fs.fold(name); right != "" {
					return &Error{Kind: WrongCase, Path: p, Name: name, Want: right}
				}
				return &Error{Kind: UnknownMember, Path: p, Name: name}
			}
			if f.quoted {
				continue // `json:",string"`: encoding/json decides
			}
			if err := check(obj[name], f.typ, join(path, name), depth+1); err != nil {
				return err
			}
		}
	}
	// Interfaces, channels, funcs, complex numbers: encoding/json decides.
	return nil
}

func wrongType(path string, t reflect.Type) *Error {
	return &Error{Kind: WrongType, Path: path, Want: Describe(t)}
}

func sortedNames(obj map[string]any) []string {
	names := make([]string, 0, len(obj))
	for n := range obj {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Describe says what JSON a Go type takes, for error messages: "a string",
// "an integer", "an RFC 3339 date-time string", ...
func Describe(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "an RFC 3339 date-time string"
	case t == numberType:
		return "a number"
	case !implements(t, jsonUnmarshaler) && implements(t, textUnmarshaler):
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}
