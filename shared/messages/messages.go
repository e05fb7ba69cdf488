// Package messages is the wire format of the messages other systems send us:
// LIS sample status changes (LISSampleStatus), POS order events (POSOrder)
// and corporate check-up rosters (CheckupRoster). Their contracts are the JSON
// Schemas in docs/contracts (one per type and version); the producer guide is
// docs/producers.md; examples live in testdata/messages.
//
// Decoding is strict and agrees with the schemas: a body is accepted by Decode
// if and only if it is valid against its schema (the contract tests check
// this on every example, and the fuzz tests on generated bodies). Beyond the
// schema, Decode also refuses bodies over MaxBodyBytes, bodies that are not
// valid UTF-8, and objects with a repeated member name. The body is parsed by
// the project's one strict JSON parser (shared/strictjson), whose typed
// errors are worded here; the members are then read by hand (reader), which
// is how the schema's presence and no-null rules are kept.
//
// Each type implements the consumer kit's message interface (Message):
// DedupeKey is the producer's eventId; Validate checks the schema's rules on
// the decoded value and reports a schemaVersion it does not know as
// apperr.ErrUnknownVersion. Every error is an apperr VALIDATION_FAILED whose message
// names the field and the rule but never quotes a value (values may be
// personal data, and the message is logged and sent as failure-detail).
package messages

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/strictjson"
)

// MaxBodyBytes is the largest message body accepted: SQS's limit, 256 KiB.
const MaxBodyBytes = 256 << 10

// SchemaVersion is the contract version this package reads and writes.
const SchemaVersion = 1

// Message is what every message type implements; it is the consumer kit's
// interface (shared/consumer), repeated here so that this package does not
// depend on the kit.
type Message interface {
	// DedupeKey returns the producer's eventId.
	DedupeKey() string
	// Validate checks the schema's rules; see the package documentation.
	Validate() error
}

// A schemaVersion this package does not know (an integer other than 1) is a
// VALIDATION_FAILED error whose Err is apperr.ErrUnknownVersion. The consumer
// dead-letters such a message with reason unknown_version: deploy a consumer
// that knows the version, then redrive. A body with an unknown version is not
// checked any further (a newer version may add, remove or change any field):
// it decodes to a value with only SchemaVersion and, when it is a string,
// EventID set.

// Decode decodes and validates one message of type T: at most MaxBodyBytes of
// valid UTF-8 holding exactly one JSON object, strictly (no unknown, repeated
// or wrongly-cased member names, no nulls, no wrong JSON types), then
// T.Validate. Every error is VALIDATION_FAILED; an unknown schemaVersion wraps
// apperr.ErrUnknownVersion. On error the zero T is returned.
func Decode[T any, PT interface {
	*T
	Message
	json.Unmarshaler
}](body []byte) (T, error) {
	var zero T
	var m T
	if err := PT(&m).UnmarshalJSON(body); err != nil {
		return zero, err
	}
	if err := PT(&m).Validate(); err != nil {
		return zero, err
	}
	return m, nil
}

func invalid(format string, args ...any) *apperr.Error {
	return apperr.E(apperr.Validation, format, args...)
}

// checkVersion is the schemaVersion rule of every type.
func checkVersion(v int) error {
	switch {
	case v == SchemaVersion:
		return nil
	case v == 0:
		return invalid("schemaVersion: is required")
	case v > SchemaVersion:
		e := invalid("schemaVersion: version %d is not supported (this consumer reads version %d)", v, SchemaVersion)
		e.Err = apperr.ErrUnknownVersion
		return e
	}
	return invalid("schemaVersion: must be %d", SchemaVersion)
}

// The patterns of the schemas' $defs (docs/contracts), compiled with Go's
// regexp package exactly as the schema validator does; a test checks that the
// schemas use these very strings.
const (
	patID       = `^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$`
	patDateTime = `^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`
	patDate     = `^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`
	patText     = `^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$`
	patDecimal  = `^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$`
	patDecimal0 = `^(0|[1-9][0-9]{0,11})$`
	patZero     = `^0(\.0{1,2})?$`
	patPhone    = `^\+[1-9][0-9]{6,14}$`
	patEmail    = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$"
	patMethod   = `^[a-z][a-z0-9_]{0,31}$`
)

var (
	reID       = regexp.MustCompile(patID)
	reDateTime = regexp.MustCompile(patDateTime)
	reDate     = regexp.MustCompile(patDate)
	reText     = regexp.MustCompile(patText)
	rePhone    = regexp.MustCompile(patPhone)
	reEmail    = regexp.MustCompile(patEmail)
	reMethod   = regexp.MustCompile(patMethod)
)

// maxSafeInteger is the largest integer a JSON number carries exactly in
// every implementation (2^53 − 1).
const maxSafeInteger = 1<<53 - 1

// validator collects the first rule broken by a decoded value.
type validator struct{ err error }

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = invalid(format, args...)
	}
}

// id checks an identifier; optional ids may be "" (absent).
func (v *validator) id(field, s string, required bool) {
	switch {
	case s == "" && !required:
	case s == "":
		v.fail("%s: is required", field)
	case !reID.MatchString(s):
		v.fail("%s: must be 1..128 characters of A-Z a-z 0-9 _ . : / -, starting with a letter or digit", field)
	}
}

// text checks free text of 1..max code points; optional text may be "".
func (v *validator) text(field, s string, max int, required bool) {
	switch {
	case s == "" && !required:
	case s == "":
		v.fail("%s: is required", field)
	case !utf8.ValidString(s):
		v.fail("%s: must be valid UTF-8", field)
	case utf8.RuneCountInString(s) > max:
		v.fail("%s: must be at most %d characters", field, max)
	case !reText.MatchString(s):
		v.fail("%s: must not contain control characters or be only spaces", field)
	}
}

// instant checks a required date-time: it must encode (RFC 3339, as
// time.Time's JSON form does) to a string the schema's pattern accepts.
func (v *validator) instant(field string, t time.Time) {
	if t.IsZero() {
		v.fail("%s: is required", field)
		return
	}
	_, off := t.Zone()
	if y := t.Year(); y < 2000 || y > 2099 || off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		v.fail("%s: must be in the years 2000..2099 with a whole-minute UTC offset", field)
	}
}

// date checks a YYYY-MM-DD date; optional dates may be "".
func (v *validator) date(field, s string, required bool) {
	switch {
	case s == "" && !required:
	case s == "":
		v.fail("%s: is required", field)
	case !reDate.MatchString(s):
		v.fail("%s: must be a date YYYY-MM-DD in the years 2000..2099", field)
	default:
		if _, err := time.Parse("2006-01-02", s); err != nil {
			v.fail("%s: must be a date that exists", field)
		}
	}
}

// tree parsing ---------------------------------------------------------------

// maxDepth bounds the nesting of a body; the deepest valid message nests 3
// levels.
const maxDepth = 32

// parseObject parses b with the project's strict JSON parser (at most
// MaxBodyBytes of UTF-8 holding one JSON object, no repeated member names,
// at most maxDepth levels) into a tree (objects as map[string]any, arrays as
// []any, numbers as json.Number). Its errors are VALIDATION_FAILED, worded
// by the kind of problem.
func parseObject(b []byte) (map[string]any, error) {
	tree, err := strictjson.Parse(b, strictjson.Options{MaxBytes: MaxBodyBytes, MaxDepth: maxDepth})
	if err == nil {
		return tree, nil
	}
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return nil, invalid("message body: not valid JSON")
	}
	switch e.Kind {
	case strictjson.TooLarge:
		return nil, invalid("message body: must be at most %d bytes (256 KiB)", MaxBodyBytes)
	case strictjson.InvalidUTF8:
		return nil, invalid("message body: must be valid UTF-8")
	case strictjson.Empty, strictjson.NotObject:
		return nil, invalid("message body: must be a JSON object")
	case strictjson.Syntax, strictjson.Truncated, strictjson.TrailingData:
		return nil, invalid("message body: not valid JSON (at byte %d)", e.Offset)
	case strictjson.TooDeep:
		return nil, invalid("message body: nests deeper than %d levels", maxDepth)
	case strictjson.DuplicateMember:
		return nil, invalid("%s %s: appears twice", memberIn(e.Parent()), quoteName(e.Name))
	}
	return nil, invalid("message body: not valid JSON")
}

// memberIn is "member", or "<path>: member" for a member below the top level.
func memberIn(path string) string {
	if path == "" {
		return "member"
	}
	return path + ": member"
}

// quoteName quotes a member name for an error message, at most 64 bytes of it.
func quoteName(s string) string { return strictjson.QuoteName(s) }

// unknownVersion returns the schemaVersion of a tree whose version is an
// integer other than 1 (and small enough to be a version), or 0.
func unknownVersion(obj map[string]any) int {
	n, ok := obj["schemaVersion"].(json.Number)
	if !ok {
		return 0
	}
	v, ok := parseInteger(string(n))
	if !ok || v == SchemaVersion || v < 1 || v > 1<<20 {
		return 0
	}
	return int(v)
}

// parseInteger returns the value of a JSON number if it is an integer (1,
// 1.0, 1e2, 10E-1 are) of at most 18 digits.
func parseInteger(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := strings.TrimPrefix(s[i+1:], "+")
		eneg := strings.HasPrefix(e, "-")
		e = strings.TrimLeft(strings.TrimPrefix(e, "-"), "0")
		if len(e) > 4 { // |exponent| ≥ 10000
			if strings.Trim(mant, "0.") == "" {
				return 0, true // zero, whatever the exponent
			}
			return 0, false
		}
		exp, _ = strconv.Atoi("0" + e)
		if eneg {
			exp = -exp
		}
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	exp -= len(frac)
	if digits == "" {
		return 0, true
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp < 0 || len(digits)+exp > 18 {
		return 0, false
	}
	v, err := strconv.ParseInt(digits+strings.Repeat("0", exp), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// reader reads the members of one object of a tree into Go values, checking
// JSON types, the presence rules that a Go zero value cannot express, and
// (in done) that no member is unknown. The first problem is kept in *err.
type reader struct {
	path string // "" for the message, "window", "items[2]", ...
	m    map[string]any
	used map[string]bool
	err  *error
}

func newReader(m map[string]any) *reader {
	var err error
	return &reader{m: m, used: map[string]bool{}, err: &err}
}

func (r *reader) field(name string) string {
	if r.path == "" {
		return name
	}
	return r.path + "." + name
}

func (r *reader) fail(format string, args ...any) {
	if *r.err == nil {
		*r.err = invalid(format, args...)
	}
}

func (r *reader) get(name string) (any, bool) {
	v, ok := r.m[name]
	if ok {
		r.used[name] = true
	}
	return v, ok
}

// str reads a string member; absent is "".
func (r *reader) str(name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail("%s: must be a string", r.field(name))
	}
	return s
}

// optStr reads an optional string member, which must not be "" when present
// (Go cannot tell an empty string from an absent one).
func (r *reader) optStr(name string) string {
	s := r.str(name)
	if _, ok := r.m[name]; ok && s == "" {
		r.fail("%s: must not be empty (omit the member instead)", r.field(name))
	}
	return s
}

// integer reads an integer member; absent is 0. An optional member must not
// be 0 when present.
func (r *reader) integer(name string, optional bool) int64 {
	v, ok := r.get(name)
	if !ok {
		return 0
	}
	n, isNum := v.(json.Number)
	if !isNum {
		r.fail("%s: must be an integer", r.field(name))
		return 0
	}
	i, ok := parseInteger(string(n))
	if !ok || i > maxSafeInteger || i < -maxSafeInteger {
		r.fail("%s: must be a whole number of at most 15 digits", r.field(name))
		return 0
	}
	if optional && i == 0 {
		r.fail("%s: must be at least 1 (omit the member instead of 0)", r.field(name))
	}
	return i
}

// dateTime reads a date-time member; absent is the zero time.
func (r *reader) dateTime(name string) time.Time {
	v, ok := r.get(name)
	if !ok {
		return time.Time{}
	}
	s, isStr := v.(string)
	if !isStr || !reDateTime.MatchString(s) {
		r.fail("%s: must be an RFC 3339 date-time with seconds and offset, e.g. 2026-12-01T08:15:00+07:00", r.field(name))
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail("%s: must be a date-time that exists", r.field(name))
		return time.Time{}
	}
	return t
}

// object reads an object member; absent gives a reader of no members.
func (r *reader) object(name string) *reader {
	sub := &reader{path: r.field(name), used: map[string]bool{}, err: r.err}
	v, ok := r.get(name)
	if !ok {
		return sub
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		r.fail("%s: must be an object", r.field(name))
	}
	sub.m = m
	return sub
}

// objects reads an array of objects; absent is nil, [] is empty and non-nil.
func (r *reader) objects(name string) []*reader {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		r.fail("%s: must be an array", r.field(name))
		return nil
	}
	out := make([]*reader, len(arr))
	for i, e := range arr {
		path := fmt.Sprintf("%s[%d]", r.field(name), i)
		m, isObj := e.(map[string]any)
		if !isObj {
			r.fail("%s: must be an object", path)
		}
		out[i] = &reader{path: path, m: m, used: map[string]bool{}, err: r.err}
	}
	return out
}

// done reports the first member that no read asked for, in name order.
func (r *reader) done() {
	var unknown []string
	for name := range r.m {
		if !r.used[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return
	}
	first := unknown[0]
	for _, n := range unknown[1:] {
		if n < first {
			first = n
		}
	}
	r.fail("%s %s: is not in the contract (check the spelling and case)", memberIn(r.path), quoteName(first))
}

func itoa(i int) string { return strconv.Itoa(i) }

// currencyList is the supported codes for error messages.
func currencyList() string { return strings.Join(domain.Currencies(), ", ") }

// decimalRule describes the decimal strings a currency takes.
func decimalRule(digits int) string {
	if digits == 0 {
		return `must be a whole number as a string, such as "1250" (the currency has no decimal places)`
	}
	return fmt.Sprintf(`must be a decimal string with at most %d decimal places and 12 digits before the point, such as "1250.00"`, digits)
}
