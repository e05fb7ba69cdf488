// Package strictjson is the project's one strict JSON decoder. HTTP request
// bodies (shared/httpapi), SQS messages (shared/consumer, shared/messages)
// and event data (shared/events) are all read through it, so "strict" means
// the same thing everywhere.
//
// Parse accepts a body only if it is at most Options.MaxBytes of valid UTF-8
// holding exactly one JSON object, with no member name repeated in any
// object and no nesting deeper than Options.MaxDepth. Decode also requires
// every member name to be spelled exactly as a field of the target Go type
// (encoding/json would match "EventID" to "eventId"; Decode refuses it) and
// every value to have the JSON type its field takes, then fills the target
// with encoding/json.
//
// Every refusal is an *Error with a Kind and, for a member, its JSON path
// (`patient.name`, `items[2].code`). Callers choose their wording from the
// kind and path: nothing here, and nothing that uses it, reads the text of an
// encoding/json error message (it is not an API and has changed between Go
// releases). Messages name members but never quote values, which may be
// personal data.
//
// Stdlib only.
package strictjson

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting bound when Options.MaxDepth is 0: the top
// object is level 1.
const DefaultMaxDepth = 64

// Options bound what Parse and Decode accept.
type Options struct {
	// MaxBytes is the largest body accepted; 0 means no limit.
	MaxBytes int
	// MaxDepth is the deepest nesting accepted (the top object is 1);
	// 0 means DefaultMaxDepth.
	MaxDepth int
}

func (o Options) maxDepth() int {
	if o.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return o.MaxDepth
}

// Kind says what is wrong with a body.
type Kind uint8

// The kinds, in the order Parse and Decode check them.
const (
	// TooLarge: the body is longer than Options.MaxBytes (Error.Limit).
	TooLarge Kind = iota + 1
	// InvalidUTF8: the body is not valid UTF-8 (Error.Offset: the first bad byte).
	InvalidUTF8
	// Empty: the body is empty or only JSON whitespace.
	Empty
	// NotObject: the body's first value is not an object (an array, a
	// string, null, ...).
	NotObject
	// Syntax: the body is not JSON (Error.Offset: where it stops being JSON).
	Syntax
	// Truncated: the body ends inside the object (Error.Offset: its length).
	Truncated
	// TrailingData: something follows the object (Error.Offset: where).
	TrailingData
	// TooDeep: an object or array nests deeper than Options.MaxDepth
	// (Error.Limit).
	TooDeep
	// DuplicateMember: an object repeats the member name Error.Name.
	DuplicateMember
	// UnknownMember: the target type has no field named Error.Name, in any case.
	UnknownMember
	// WrongCase: the member name Error.Name matches a field only up to case;
	// Error.Want is the field's spelling.
	WrongCase
	// WrongType: the value at Error.Path is not of the JSON type its field
	// takes; Error.Want describes that type ("a string", "an integer", ...).
	WrongType
	// InvalidValue: the target's own decoding (an UnmarshalJSON or
	// UnmarshalText method) refused a value; Error.Err is its error.
	InvalidValue
)

var kindNames = [...]string{
	TooLarge: "too_large", InvalidUTF8: "invalid_utf8", Empty: "empty", NotObject: "not_object",
	Syntax: "syntax", Truncated: "truncated", TrailingData: "trailing_data", TooDeep: "too_deep",
	DuplicateMember: "duplicate_member", UnknownMember: "unknown_member", WrongCase: "wrong_case",
	WrongType: "wrong_type", InvalidValue: "invalid_value",
}

// String returns the kind's short name, such as "unknown_member".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is why a body was refused. Only the fields its Kind documents are set.
type Error struct {
	Kind Kind
	// Path is the JSON path of the offending member or value, such as
	// "patient.name" or "items[2].code"; "" for the body as a whole.
	Path string
	// Name is the offending member name (the last element of Path) for
	// DuplicateMember, UnknownMember and WrongCase.
	Name string
	// Want is the expected spelling (WrongCase) or JSON type (WrongType).
	Want string
	// Offset is where in the body the problem is: the first bad byte
	// (InvalidUTF8); as in json.SyntaxError, the number of bytes read when
	// the scanner stopped (Syntax, TrailingData); the body's length
	// (Truncated).
	Offset int64
	// Limit is the bound that was exceeded (TooLarge, TooDeep).
	Limit int
	// Err is the underlying error (InvalidValue).
	Err error
}

// Error describes the problem without quoting any value of the body.
func (e *Error) Error() string {
	switch e.Kind {
	case TooLarge:
		return fmt.Sprintf("body is larger than %d bytes", e.Limit)
	case InvalidUTF8:
		return fmt.Sprintf("body is not valid UTF-8 (at byte %d)", e.Offset)
	case Empty:
		return "body is not JSON: it is empty"
	case NotObject:
		return "body is not a JSON object"
	case Syntax:
		return fmt.Sprintf("body is not JSON: syntax error at byte %d", e.Offset)
	case Truncated:
		return "body is not JSON: it ends inside a value (truncated)"
	case TrailingData:
		return fmt.Sprintf("body holds more than one JSON value (more at byte %d)", e.Offset)
	case TooDeep:
		return fmt.Sprintf("body nests deeper than %d levels", e.Limit)
	case DuplicateMember:
		return "duplicate member name " + QuoteName(e.Name) + e.in()
	case UnknownMember:
		return "unknown field " + QuoteName(e.Name) + e.in()
	case WrongCase:
		return "member name " + QuoteName(e.Name) + " must be spelled " + QuoteName(e.Want) + e.in()
	case WrongType:
		return "field " + QuoteName(e.Path) + " must be " + e.Want
	case InvalidValue:
		if e.Path == "" {
			return e.Err.Error()
		}
		return "field " + QuoteName(e.Path) + ": " + e.Err.Error()
	}
	return "body is not acceptable JSON"
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Parent returns the path of the object that holds the member at Path
// ("" for a top-level member).
func (e *Error) Parent() string {
	if len(e.Path) > len(e.Name) {
		return e.Path[:len(e.Path)-len(e.Name)-1]
	}
	return ""
}

// in names the object holding a member, for members below the top level.
func (e *Error) in() string {
	if p := e.Parent(); p != "" {
		return " in " + QuoteName(p)
	}
	return ""
}

// maxQuoted bounds a name or path quoted in an error message.
const maxQuoted = 64

// QuoteName quotes a member name or path for an error message, shortened to
// at most 64 bytes (without splitting a character, the cut marked "...").
func QuoteName(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted - 3
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// join appends a member name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends an array index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
