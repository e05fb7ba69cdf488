package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

type item struct {
	Code string `json:"code"`
	Qty  int    `json:"qty,omitempty"`
}

type Embedded struct {
	Source string `json:"source"`
}

type target struct {
	Embedded
	Version int    `json:"version"`
	EventID string `json:"eventId"`
	Items   []item `json:"items"`
	Patient *struct {
		Name string `json:"name"`
	} `json:"patient"`
	At       time.Time         `json:"at"`
	Until    *time.Time        `json:"until"`
	Labels   map[string]string `json:"labels"`
	Ratio    float32           `json:"ratio"`
	Active   bool              `json:"active"`
	Ignored  string            `json:"-"`
	Untagged string
	Any      any             `json:"any"`
	Raw      json.RawMessage `json:"raw"`
}

func kindOf(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	return e
}

func TestDecodeKinds(t *testing.T) {
	deep := strings.Repeat(`{"any":`, 5) + "1" + strings.Repeat("}", 5)
	cases := []struct {
		name, body string
		opts       Options
		kind       Kind
		path, want string
		offset     int64
	}{
		{"too large", `{"eventId":"e1"}`, Options{MaxBytes: 10}, TooLarge, "", "", 0},
		{"invalid UTF-8", "{\"eventId\":\"e\xff\"}", Options{}, InvalidUTF8, "", "", 13},
		{"empty", "", Options{}, Empty, "", "", 0},
		{"whitespace", " \r\n\t", Options{}, Empty, "", "", 0},
		{"array", `[{"eventId":"e1"}]`, Options{}, NotObject, "", "", 0},
		{"null", `null`, Options{}, NotObject, "", "", 0},
		{"string", `"x"`, Options{}, NotObject, "", "", 0},
		{"bare word", `x`, Options{}, NotObject, "", "", 0},
		{"syntax", `{"eventId":'e1'}`, Options{}, Syntax, "", "", 12},
		{"missing colon", `{"eventId" "e1"}`, Options{}, Syntax, "", "", 0},
		{"trailing comma", `{"eventId":"e1",}`, Options{}, Syntax, "", "", 0},
		{"truncated", `{"eventId":"e1"`, Options{}, Truncated, "", "", 15},
		{"truncated string", `{"eventId":"e`, Options{}, Truncated, "", "", 13},
		{"second object", `{"eventId":"e1"} {"eventId":"e2"}`, Options{}, TrailingData, "", "", 18},
		{"trailing garbage", `{"eventId":"e1"}  x`, Options{}, TrailingData, "", "", 19},
		{"too deep", deep, Options{MaxDepth: 4}, TooDeep, "any.any.any.any", "", 0},
		{"duplicate", `{"eventId":"e1","eventId":"e2"}`, Options{}, DuplicateMember, "eventId", "", 0},
		{"nested duplicate", `{"items":[{"code":"a"},{"code":"a","code":"b"}]}`, Options{}, DuplicateMember, "items[1].code", "", 0},
		{"unknown", `{"eventId":"e1","extra":1}`, Options{}, UnknownMember, "extra", "", 0},
		{"unknown nested", `{"items":[{"code":"a"},{"code":"b","price":1}]}`, Options{}, UnknownMember, "items[1].price", "", 0},
		{"unknown in pointer struct", `{"patient":{"name":"n","ssn":"x"}}`, Options{}, UnknownMember, "patient.ssn", "", 0},
		{"json:\"-\" is unknown", `{"Ignored":"x"}`, Options{}, UnknownMember, "Ignored", "", 0},
		{"wrong case", `{"EventID":"e1"}`, Options{}, WrongCase, "EventID", "eventId", 0},
		{"wrong case nested", `{"items":[{"CODE":"a"}]}`, Options{}, WrongCase, "items[0].CODE", "code", 0},
		{"wrong case embedded", `{"Source":"a"}`, Options{}, WrongCase, "Source", "source", 0},
		{"string for int", `{"version":"1"}`, Options{}, WrongType, "version", "an integer", 0},
		{"fraction for int", `{"version":1.5}`, Options{}, WrongType, "version", "an integer", 0},
		{"int overflow", `{"version":9223372036854775808}`, Options{}, WrongType, "version", "an integer", 0},
		{"float overflow", `{"ratio":1e40}`, Options{}, WrongType, "ratio", "a number", 0},
		{"number for string", `{"eventId":7}`, Options{}, WrongType, "eventId", "a string", 0},
		{"array element", `{"items":[{"code":"a"},{"code":["b"]}]}`, Options{}, WrongType, "items[1].code", "a string", 0},
		{"object for array", `{"items":{"code":"a"}}`, Options{}, WrongType, "items", "an array", 0},
		{"map value", `{"labels":{"a":"x","b":2}}`, Options{}, WrongType, "labels.b", "a string", 0},
		{"string for bool", `{"active":"yes"}`, Options{}, WrongType, "active", "a boolean", 0},
		{"time not a string", `{"at":20261201}`, Options{}, WrongType, "at", "an RFC 3339 date-time string", 0},
		{"time without offset", `{"at":"2026-12-01T08:00:00"}`, Options{}, WrongType, "at", "an RFC 3339 date-time string", 0},
		{"pointer to time", `{"until":"tomorrow"}`, Options{}, WrongType, "until", "an RFC 3339 date-time string", 0},
		{"string for struct", `{"patient":"n"}`, Options{}, WrongType, "patient", "an object", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			err := Decode([]byte(tc.body), &v, tc.opts)
			if err == nil {
				t.Fatalf("accepted %s", tc.body)
			}
			e := kindOf(t, err)
			if e.Kind != tc.kind || e.Path != tc.path || e.Want != tc.want {
				t.Fatalf("got kind %v path %q want %q (%v); expected %v %q %q", e.Kind, e.Path, e.Want, err, tc.kind, tc.path, tc.want)
			}
			if tc.offset != 0 && e.Offset != tc.offset {
				t.Errorf("offset %d, want %d", e.Offset, tc.offset)
			}
			if e.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	body := ` {"source":"lis","version":1,"eventId":"e1","items":[{"code":"a","qty":2}],"patient":{"name":"n"},
		"at":"2026-12-01T08:00:00+07:00","labels":{"k":"v"},"ratio":0.5,"active":true,"Untagged":"u",
		"any":{"x":[1,"y",null]},"raw":{"free":"form"},"eventId2":null}`
	body = strings.Replace(body, `,"eventId2":null`, "", 1)
	var v target
	if err := Decode([]byte(body), &v, Options{}); err != nil {
		t.Fatal(err)
	}
	if v.Source != "lis" || v.Version != 1 || v.EventID != "e1" || len(v.Items) != 1 || v.Items[0].Qty != 2 ||
		v.Patient == nil || v.Patient.Name != "n" || v.At.Hour() != 8 || v.Labels["k"] != "v" || !v.Active ||
		v.Untagged != "u" || v.Any == nil || string(v.Raw) != `{"free":"form"}` {
		t.Fatalf("decoded %+v", v)
	}
	// null is accepted for any field and leaves it alone, as in encoding/json.
	v2 := target{EventID: "keep"}
	if err := Decode([]byte(`{"eventId":null,"items":null,"patient":null,"at":null}`), &v2, Options{}); err != nil {
		t.Fatal(err)
	}
	if v2.EventID != "keep" {
		t.Errorf("null changed a field: %+v", v2)
	}
}

// evil decodes through its own method, whose error text imitates
// encoding/json's messages.
type evil struct{}

func (*evil) UnmarshalJSON([]byte) error {
	return errors.New(`json: unknown field "ssn"`)
}

type withEvil struct {
	Name string `json:"name"`
	E    evil   `json:"e"`
}

// TestKindsDoNotComeFromMessageText fails if the kind of an error were ever
// read from error text again: an UnmarshalJSON error that reads exactly like
// encoding/json's unknown-field message is still an InvalidValue, and member
// names that contain encoding/json's message texts are reported verbatim as
// what they are.
func TestKindsDoNotComeFromMessageText(t *testing.T) {
	var v withEvil
	err := Decode([]byte(`{"name":"n","e":{}}`), &v, Options{})
	e := kindOf(t, err)
	if e.Kind != InvalidValue || e.Name != "" {
		t.Fatalf("kind %v name %q: an error's text decided its kind (%v)", e.Kind, e.Name, err)
	}
	if !errors.Is(err, e.Err) || e.Err.Error() != `json: unknown field "ssn"` {
		t.Fatalf("the method's error is not wrapped: %v", e.Err)
	}

	for _, name := range []string{
		`json: unknown field "name"`,
		`x" of type string`,
		`invalid character 'x' after top-level value`,
	} {
		b, _ := json.Marshal(map[string]any{"name": "n", name: 1})
		err := Decode(b, &v, Options{})
		e := kindOf(t, err)
		if e.Kind != UnknownMember || e.Name != name || e.Path != name {
			t.Errorf("member %q: kind %v name %q path %q", name, e.Kind, e.Name, e.Path)
		}
		b, _ = json.Marshal(map[string]any{name: []any{map[string]any{"a": 1}}, "name": "n"})
		b = append(b, ` {"name":"x"}`...)
		if e := kindOf(t, Decode(b, &v, Options{})); e.Kind != TrailingData {
			t.Errorf("member %q then a second object: kind %v", name, e.Kind)
		}
	}
}

func TestErrorsDoNotQuoteValues(t *testing.T) {
	const secret = "0812345678-Somchai"
	for _, b := range []string{
		`{"eventId":"` + secret + `","version":"` + secret + `"}`,
		`{"eventId":` + secret + `}`,
		`{"items":[{"code":"` + secret + `","x":1}]}`,
		`{"at":"` + secret + `"}`,
		`{"patient":{"name":["` + secret + `"]}}`,
	} {
		var v target
		err := Decode([]byte(b), &v, Options{})
		if err == nil {
			t.Fatalf("accepted %s", b)
		}
		if strings.Contains(err.Error(), "0812345678") {
			t.Errorf("error quotes a value: %v", err)
		}
	}
}

func TestLongNamesAreShortenedInMessages(t *testing.T) {
	name := strings.Repeat("ก", 100) // 300 bytes
	var v target
	err := Decode([]byte(`{"`+name+`":1}`), &v, Options{})
	e := kindOf(t, err)
	if e.Name != name {
		t.Fatal("Name must be the whole member name")
	}
	if len(err.Error()) > 100 || !strings.Contains(err.Error(), `..."`) {
		t.Errorf("message not shortened: %q", err)
	}
}

func TestParseTreeAndCanonical(t *testing.T) {
	a, err := Parse([]byte(` { "b": 1.50, "a": {"y": [1, 2e3], "x": "a<b"} } `), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(`{"a":{"x":"a\u003cb","y":[1,2e3]},"b":1.50}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := Canonical(a)
	cb, _ := Canonical(b)
	if string(ca) != string(cb) || string(ca) != `{"a":{"x":"a<b","y":[1,2e3]},"b":1.50}` {
		t.Fatalf("canonical forms %s / %s", ca, cb)
	}
	if n, ok := a["b"].(json.Number); !ok || n != "1.50" {
		t.Errorf("numbers must keep their text: %#v", a["b"])
	}
}

func TestDepthBoundIsInclusive(t *testing.T) {
	at := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1))
	}
	if _, err := Parse(at(DefaultMaxDepth), Options{}); err != nil {
		t.Errorf("depth %d refused: %v", DefaultMaxDepth, err)
	}
	if _, err := Parse(at(DefaultMaxDepth+1), Options{}); kindOf(t, err).Kind != TooDeep {
		t.Errorf("depth %d accepted", DefaultMaxDepth+1)
	}
}

func TestDecodeNeedsAPointer(t *testing.T) {
	var v target
	if err := Decode([]byte(`{}`), v, Options{}); err == nil {
		t.Fatal("a non-pointer was accepted")
	}
	if err := Decode([]byte(`{}`), (*target)(nil), Options{}); err == nil {
		t.Fatal("a nil pointer was accepted")
	}
}

func TestKindString(t *testing.T) {
	for k := TooLarge; k <= InvalidValue; k++ {
		if strings.HasPrefix(k.String(), "kind(") {
			t.Errorf("kind %d has no name", k)
		}
	}
}

// FuzzDecode: nothing panics, every error is an *Error, and whatever Decode
// accepts encoding/json also accepts strictly (no unknown fields, one value).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"eventId":"e1","items":[{"code":"a"}]}`, `{"EventID":"x"}`, `{"a":1,"a":2}`, `[]`, `null`,
		`{"at":"2026-12-01T08:00:00Z"}`, `{"labels":{"a":"b"}}`, `{"version":1e400}`, "{\"eventId\":\"\xff\"}",
		`{"patient":{"name":"n"}} {}`, `{"source":"s"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		var v target
		err := Decode([]byte(b), &v, Options{MaxDepth: 16})
		if err != nil {
			kindOf(t, err)
			return
		}
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		var w target
		if err := dec.Decode(&w); err != nil {
			t.Fatalf("strictjson accepted what encoding/json refuses: %v", err)
		}
		if dec.More() {
			t.Fatal("strictjson accepted trailing data")
		}
	})
}
