package messages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

const (
	contractsDir = "../../docs/contracts"
	examplesDir  = "../../testdata/messages"
)

// kind is one message type: its schema file, its example folder and its
// decoder.
type kind struct {
	name   string // folder under testdata/messages and prefix of invalid examples
	schema string // file in docs/contracts
	decode func([]byte) (Message, error)
}

var kinds = []kind{
	{"lis-sample-status", "lis-sample-status.v1.schema.json", func(b []byte) (Message, error) { return DecodeLISSampleStatus(b) }},
	{"pos-order", "pos-order.v1.schema.json", func(b []byte) (Message, error) { return DecodePOSOrder(b) }},
	{"checkup-roster", "checkup-roster.v1.schema.json", func(b []byte) (Message, error) { return DecodeCheckupRoster(b) }},
	{"patient-event", "patient-event.v1.schema.json", func(b []byte) (Message, error) { return DecodePatientEvent(b) }},
}

func kindNamed(t testing.TB, name string) kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	t.Fatalf("no message kind %q", name)
	return kind{}
}

var (
	schemasOnce sync.Once
	schemas     map[string]*jsonschema.Schema
	schemasErr  error
)

// compiled returns the compiled schema of every kind, by kind name. Compiling
// also validates each schema against the draft 2020-12 meta-schema.
func compiled(t testing.TB) map[string]*jsonschema.Schema {
	schemasOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		schemas = map[string]*jsonschema.Schema{}
		for _, k := range kinds {
			doc, err := readJSON(filepath.Join(contractsDir, k.schema))
			if err != nil {
				schemasErr = err
				return
			}
			url := "file:///" + k.schema
			if err := c.AddResource(url, doc); err != nil {
				schemasErr = err
				return
			}
			if schemas[k.name], err = c.Compile(url); err != nil {
				schemasErr = fmt.Errorf("%s: %w", k.schema, err)
				return
			}
		}
	})
	if schemasErr != nil {
		t.Fatal(schemasErr)
	}
	return schemas
}

func readJSON(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// schemaVerdict is the contract's verdict on a body, independent of the Go
// decoder: the body must be I-JSON (RFC 7493: UTF-8, member names unique per
// object), which the producer guide requires and a JSON Schema cannot see,
// and valid against the schema.
func schemaVerdict(t testing.TB, k kind, body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("not UTF-8")
	}
	if err := uniqueNames(body); err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return compiled(t)[k.name].Validate(inst)
}

// uniqueNames reports a repeated member name anywhere in body; bodies that
// are not JSON are left to the schema validator's parser.
func uniqueNames(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(tok json.Token) error
	walk = func(tok json.Token) error {
		switch tok {
		case json.Delim('{'):
			names := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil
				}
				name, _ := kt.(string)
				if names[name] {
					return fmt.Errorf("member %q repeated", name)
				}
				names[name] = true
				vt, err := dec.Token()
				if err != nil {
					return nil
				}
				if err := walk(vt); err != nil {
					return err
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				vt, err := dec.Token()
				if err != nil {
					return nil
				}
				if err := walk(vt); err != nil {
					return err
				}
			}
			_, _ = dec.Token()
		}
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	return walk(tok)
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(examplesDir, dir, "*.json"))
	if err != nil || len(fs) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	return fs
}

// TestValidExamples: every example in testdata/messages/<kind>/ is valid
// against its schema and accepted by the decoder; the decoded value encodes
// back to a schema-valid body that decodes to the same value.
func TestValidExamples(t *testing.T) {
	for _, k := range kinds {
		fs := files(t, k.name)
		if len(fs) < 3 {
			t.Errorf("%s: only %d examples", k.name, len(fs))
		}
		for _, path := range fs {
			t.Run(k.name+"/"+filepath.Base(path), func(t *testing.T) {
				body, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := schemaVerdict(t, k, body); err != nil {
					t.Fatalf("schema rejects a valid example: %v", err)
				}
				m, err := k.decode(body)
				if err != nil {
					t.Fatalf("decoder rejects a valid example: %v", err)
				}
				if m.DedupeKey() == "" {
					t.Fatal("empty dedupe key")
				}
				out, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := schemaVerdict(t, k, out); err != nil {
					t.Fatalf("encoding %s is not schema-valid: %v", out, err)
				}
				again, err := k.decode(out)
				if err != nil {
					t.Fatalf("re-decoding: %v", err)
				}
				out2, _ := json.Marshal(again)
				if !bytes.Equal(out, out2) {
					t.Fatalf("round trip changed the message:\n%s\n%s", out, out2)
				}
			})
		}
	}
}

// TestInvalidExamples: every example in testdata/messages/invalid/ (named
// <kind>.<why it is invalid>.json) is rejected by its schema and by the
// decoder, with VALIDATION_FAILED; unknown-version examples, and only they,
// report apperr.ErrUnknownVersion; no error quotes personal data.
func TestInvalidExamples(t *testing.T) {
	for _, path := range files(t, "invalid") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			prefix, why, ok := strings.Cut(strings.TrimSuffix(name, ".json"), ".")
			if !ok || why == "" {
				t.Fatalf("name an invalid example <kind>.<why>.json")
			}
			k := kindNamed(t, prefix)
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaVerdict(t, k, body); err == nil {
				t.Fatal("schema accepts an invalid example")
			}
			_, err = k.decode(body)
			if err == nil {
				t.Fatal("decoder accepts an invalid example")
			}
			if !apperr.Is(err, apperr.Validation) {
				t.Fatalf("error %v is not VALIDATION_FAILED", err)
			}
			if want := strings.Contains(why, "unknown-version"); apperr.IsUnknownVersion(err) != want {
				t.Fatalf("apperr.IsUnknownVersion(%v) = %v, want %v", err, !want, want)
			}
			msg := apperr.MessageOf(err)
			for _, v := range personalValues(body) {
				if strings.Contains(msg, v) {
					t.Fatalf("error %q quotes the value %q", msg, v)
				}
			}
			t.Logf("%s", msg)
		})
	}
}

// personalValues returns the values of members that may carry personal data.
func personalValues(body []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && len(s) > 3 && slices.Contains([]string{"name", "phone", "email", "reason", "patientName", "externalId"}, k) {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		walk(v)
	}
	return out
}

// TestBeyondSchemaExamples: testdata/messages/beyond-schema/ holds messages
// valid against their schema (so the decoder accepts them) that break a rule
// a JSON Schema cannot express; the domain refuses them.
func TestBeyondSchemaExamples(t *testing.T) {
	for _, path := range files(t, "beyond-schema") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			prefix, _, _ := strings.Cut(name, ".")
			k := kindNamed(t, prefix)
			body, _ := os.ReadFile(path)
			if err := schemaVerdict(t, k, body); err != nil {
				t.Fatalf("schema: %v", err)
			}
			m, err := k.decode(body)
			if err != nil {
				t.Fatalf("decoder: %v", err)
			}
			switch m := m.(type) {
			case PatientEvent:
				if err := domain.CheckPatientEvent(m.Change()); !apperr.Is(err, apperr.Validation) {
					t.Fatalf("CheckPatientEvent: %v", err)
				}
				if _, _, err := domain.ApplyPatientChange(nil, m.Change(), m.OccurredAt); !apperr.Is(err, apperr.Validation) {
					t.Fatalf("ApplyPatientChange: %v", err)
				}
			case CheckupRoster:
				if err := domain.CheckRosterWindow(m.Window); !apperr.Is(err, apperr.Validation) {
					t.Fatalf("CheckRosterWindow: %v", err)
				}
				if _, err := domain.PlaceRoster(m.CampaignID, m.Window, m.Participants, nil, nil); !apperr.Is(err, apperr.Validation) {
					t.Fatalf("PlaceRoster: %v", err)
				}
			default:
				t.Fatalf("no domain check for %T", m)
			}
		})
	}
}

// TestKitStyleDecoding: decoding as the consumer kit does (a json.Decoder with
// DisallowUnknownFields, then Validate) gives the same verdicts as Decode on
// every example, and a body of an unknown version reaches Validate, which
// reports apperr.ErrUnknownVersion even when the body has members this version does
// not know.
func TestKitStyleDecoding(t *testing.T) {
	kitDecode := func(k kind, body []byte) error {
		var m Message
		var err error
		switch k.name {
		case "lis-sample-status":
			var x LISSampleStatus
			err = kitUnmarshal(body, &x)
			m = x
		case "pos-order":
			var x POSOrder
			err = kitUnmarshal(body, &x)
			m = x
		case "checkup-roster":
			var x CheckupRoster
			err = kitUnmarshal(body, &x)
			m = x
		case "patient-event":
			var x PatientEvent
			err = kitUnmarshal(body, &x)
			m = x
		}
		if err != nil {
			return err
		}
		return m.Validate()
	}
	for _, dir := range []string{"lis-sample-status", "pos-order", "checkup-roster", "patient-event", "invalid"} {
		for _, path := range files(t, dir) {
			name := filepath.Base(path)
			prefix, _, _ := strings.Cut(name, ".")
			if dir != "invalid" {
				prefix = dir
			}
			k := kindNamed(t, prefix)
			body, _ := os.ReadFile(path)
			_, want := k.decode(body)
			got := kitDecode(k, body)
			if (got == nil) != (want == nil) || apperr.IsUnknownVersion(got) != apperr.IsUnknownVersion(want) {
				t.Errorf("%s: kit-style %v, Decode %v", name, got, want)
			}
		}
	}
}

func kitUnmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one value")
	}
	return nil
}

// TestSchemasMatchGo checks that the schemas and the Go code state the same
// rules where both name them: the patterns, the currencies and their digits,
// the bounds; and that every object in every schema is closed.
func TestSchemasMatchGo(t *testing.T) {
	patterns := map[string]string{
		"id": patID, "dateTime": patDateTime, "date": patDate, "text200": patText, "text500": patText,
		"decimal": patDecimal, "decimal0": patDecimal0, "birthDate": patBirthDate,
	}
	for _, k := range kinds {
		doc, err := readJSON(filepath.Join(contractsDir, k.schema))
		if err != nil {
			t.Fatal(err)
		}
		root := doc.(map[string]any)
		if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema must be draft 2020-12", k.schema)
		}
		if c := root["properties"].(map[string]any)["schemaVersion"].(map[string]any)["const"]; fmt.Sprint(c) != fmt.Sprint(SchemaVersion) {
			t.Errorf("%s: schemaVersion const %v", k.schema, c)
		}
		for name, def := range root["$defs"].(map[string]any) {
			want, ok := patterns[name]
			got, has := def.(map[string]any)["pattern"]
			if ok != has || (ok && got != want) {
				t.Errorf("%s: $defs/%s pattern %q, Go %q", k.schema, name, got, want)
			}
		}
		walkSchema(root, "#", func(ptr string, node map[string]any) {
			if node["type"] == "object" && node["additionalProperties"] != false {
				t.Errorf("%s %s: an object schema must set additionalProperties false", k.schema, ptr)
			}
			if p, ok := node["pattern"].(string); ok && !slices.Contains([]string{patID, patDateTime, patDate, patText, patDecimal, patDecimal0, patZero, patPhone, patEmail, patMethod, patLineUserID, patBirthDate}, p) {
				t.Errorf("%s %s: pattern %q is not one of the Go patterns", k.schema, ptr, p)
			}
		})
	}

	pos, _ := readJSON(filepath.Join(contractsDir, "pos-order.v1.schema.json"))
	posRoot := pos.(map[string]any)
	var enum []string
	for _, c := range posRoot["$defs"].(map[string]any)["amount"].(map[string]any)["properties"].(map[string]any)["currency"].(map[string]any)["enum"].([]any) {
		enum = append(enum, c.(string))
	}
	if !reflect.DeepEqual(enum, domain.Currencies()) {
		t.Errorf("currency enum %v, domain %v", enum, domain.Currencies())
	}
	var zeroDigit []string
	for _, c := range domain.Currencies() {
		if d, _ := domain.CurrencyDigits(c); d == 0 {
			zeroDigit = append(zeroDigit, c)
		} else if d != 2 {
			t.Errorf("%s has %d digits; the schema knows 0 and 2", c, d)
		}
	}
	jpyIf := posRoot["allOf"].([]any)[1].(map[string]any)["if"].(map[string]any)["properties"].(map[string]any)["amount"].(map[string]any)["properties"].(map[string]any)["currency"].(map[string]any)["enum"]
	if fmt.Sprint(jpyIf) != fmt.Sprint(zeroDigit) {
		t.Errorf("zero-digit currencies in the schema %v, domain %v", jpyIf, zeroDigit)
	}
	if n := posRoot["properties"].(map[string]any)["items"].(map[string]any)["maxItems"]; fmt.Sprint(n) != fmt.Sprint(MaxOrderItems) {
		t.Errorf("items maxItems %v, Go %d", n, MaxOrderItems)
	}
	roster, _ := readJSON(filepath.Join(contractsDir, "checkup-roster.v1.schema.json"))
	if n := roster.(map[string]any)["properties"].(map[string]any)["participants"].(map[string]any)["maxItems"]; fmt.Sprint(n) != fmt.Sprint(domain.MaxRosterParticipants) {
		t.Errorf("participants maxItems %v, domain %d", n, domain.MaxRosterParticipants)
	}
}

func walkSchema(v any, ptr string, f func(string, map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(ptr, v)
		for k, x := range v {
			walkSchema(x, ptr+"/"+k, f)
		}
	case []any:
		for i, x := range v {
			walkSchema(x, fmt.Sprintf("%s/%d", ptr, i), f)
		}
	}
}

// TestDecimalRuleMatchesParseMoney: the schema's decimal patterns and
// domain.ParseMoney accept exactly the same strings, for both kinds of
// currency.
func TestDecimalRuleMatchesParseMoney(t *testing.T) {
	re2, re0 := regexp.MustCompile(patDecimal), regexp.MustCompile(patDecimal0)
	cands := []string{"", "0", "00", "0.0", "0.00", "0.000", ".5", "5.", "5", "05", "1250", "1250.5", "1250.50", "1250.505",
		"-1", "+1", "1e3", "1,250", " 1", "1 ", "999999999999", "999999999999.99", "1000000000000", "๕", "1.2.3", "0.01", "1_000"}
	for i := 0; i < 2000; i++ { // short strings over the relevant alphabet
		s := ""
		for n := i; n > 0; n /= 5 {
			s += string("01.9-"[n%5])
		}
		cands = append(cands, s)
	}
	for _, s := range cands {
		_, err2 := domain.ParseMoney(s, "THB")
		_, err0 := domain.ParseMoney(s, "JPY")
		if (err2 == nil) != re2.MatchString(s) {
			t.Errorf("THB %q: ParseMoney %v, pattern %v", s, err2, re2.MatchString(s))
		}
		if (err0 == nil) != (re2.MatchString(s) && re0.MatchString(s)) {
			t.Errorf("JPY %q: ParseMoney %v, patterns %v", s, err0, re0.MatchString(s))
		}
	}
}

// TestProducerGuideExamples: every JSON block in docs/producers.md that holds a
// message is valid against its schema and accepted by the decoder.
func TestProducerGuideExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/producers.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	seen := map[string]bool{}
	for _, b := range blocks {
		body := b[1]
		if !bytes.Contains(body, []byte(`"schemaVersion"`)) {
			continue
		}
		var probe struct{ Type string }
		if err := json.Unmarshal(body, &probe); err != nil {
			t.Fatalf("a JSON block of the guide is not JSON: %v\n%s", err, body)
		}
		var k kind
		switch {
		case probe.Type == TypeSampleStatusChanged:
			k = kindNamed(t, "lis-sample-status")
		case strings.HasPrefix(probe.Type, "order."):
			k = kindNamed(t, "pos-order")
		case probe.Type == TypeCheckupRoster:
			k = kindNamed(t, "checkup-roster")
		case strings.HasPrefix(probe.Type, "patient."):
			k = kindNamed(t, "patient-event")
		default:
			t.Fatalf("guide example of unknown type %q", probe.Type)
		}
		seen[k.name] = true
		if err := schemaVerdict(t, k, body); err != nil {
			t.Errorf("guide example (%s) is not schema-valid: %v", k.name, err)
		}
		if _, err := k.decode(body); err != nil {
			t.Errorf("guide example (%s) is refused: %v", k.name, err)
		}
	}
	if len(seen) != len(kinds) {
		t.Errorf("the guide shows examples of %v, want one of each kind", seen)
	}
}
