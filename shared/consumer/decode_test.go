package consumer

import (
	"errors"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
)

func TestDecodeStrict(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	cases := []struct {
		name, body string
		reason     Reason // "" = accepted
		detail     string // substring of the error
	}{
		{"valid", `{"version":1,"eventId":"e1","items":[{"code":"CBC"}]}`, "", ""},
		{"whitespace around", " \n{\"version\":1,\"eventId\":\"e1\"}\n ", "", ""},
		{"unknown member", `{"version":1,"eventId":"e1","extra":true}`, ReasonUndecodable, `unknown field "extra"`},
		{"unknown nested member", `{"version":1,"eventId":"e1","items":[{"code":"x","qty":1}]}`, ReasonUndecodable, `unknown field "qty"`},
		{"duplicate member", `{"version":1,"eventId":"e1","eventId":"e2"}`, ReasonUndecodable, `duplicate member name "eventId"`},
		{"nested duplicate", `{"version":1,"eventId":"e1","items":[{"code":"a","code":"b"}]}`, ReasonUndecodable, "duplicate member name"},
		{"wrong case", `{"version":1,"EventID":"e1"}`, ReasonUndecodable, `"EventID" must be spelled "eventId"`},
		{"wrong nested case", `{"version":1,"eventId":"e1","items":[{"CODE":"x"}]}`, ReasonUndecodable, `must be spelled "code"`},
		{"two values", `{"version":1,"eventId":"e1"}{"version":1,"eventId":"e2"}`, ReasonUndecodable, "more than one JSON value"},
		{"trailing garbage", `{"version":1,"eventId":"e1"} x`, ReasonUndecodable, "more than one JSON value"},
		{"array", `[{"version":1,"eventId":"e1"}]`, ReasonUndecodable, "not a JSON object"},
		{"null", `null`, ReasonUndecodable, "not a JSON object"},
		{"string", `"hello"`, ReasonUndecodable, "not a JSON object"},
		{"empty", ``, ReasonUndecodable, "not JSON"},
		{"truncated", `{"version":1,"eventId":"e1"`, ReasonUndecodable, "not JSON"},
		{"invalid UTF-8", "{\"version\":1,\"eventId\":\"e\xff\"}", ReasonUndecodable, "UTF-8"},
		{"wrong type", `{"version":"1","eventId":"e1"}`, ReasonUndecodable, `field "version" must be an integer`},
		{"wrong nested type", `{"version":1,"eventId":"e1","items":[{"code":"a"},{"code":7}]}`, ReasonUndecodable, `field "items[1].code" must be a string`},
		{"too deep", deep, ReasonUndecodable, "deeper than"},
		{"invalid", `{"version":1,"eventId":"e1","action":"invalid"}`, ReasonInvalid, "action is not allowed"},
		{"empty dedupe key", `{"version":1,"eventId":""}`, ReasonInvalid, "empty dedupe key"},
		{"long dedupe key", `{"version":1,"eventId":"` + strings.Repeat("k", MaxDedupeKeyLength+1) + `"}`, ReasonInvalid, "longer than"},
		{"unknown version", `{"version":2,"eventId":"e1"}`, ReasonUnknownVersion, "unknown schema version 2"},
		{"unknown version with new members", `{"version":2,"eventId":"e1","newThing":{"a":1}}`, ReasonUnknownVersion, "unknown schema version 2"},
		{"known version with new members", `{"version":1,"eventId":"e1","newThing":1}`, ReasonUndecodable, "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, hash, err := decode[testMsg](tc.body)
			if tc.reason == "" {
				if err != nil || msg.EventID != "e1" || len(hash) != 64 {
					t.Fatalf("decode = %+v, %q, %v", msg, hash, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q", tc.body)
			}
			if !apperr.IsPermanent(err) {
				t.Errorf("error %v is not permanent", err)
			}
			if got := reasonOf(err); got != tc.reason {
				t.Errorf("reason = %s, want %s (%v)", got, tc.reason, err)
			}
			if !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q lacks %q", err, tc.detail)
			}
			if tc.reason == ReasonUnknownVersion && !errors.Is(err, apperr.ErrUnknownVersion) {
				t.Errorf("error %v does not wrap ErrUnknownVersion", err)
			}
		})
	}
}

func TestDecodeErrorsDoNotQuoteValues(t *testing.T) {
	for _, b := range []string{
		`{"version":1,"eventId":"e1","patient":` + secret + `}`, // syntax error inside the value
		`{"version":1,"eventId":"e1","patient":["` + secret + `"]}`,
		`{"version":1,"eventId":"e1","patient":"` + secret + `","x":1}`,
		`{"version":"` + secret + `","eventId":"e1"}`,
	} {
		_, err := Decode[testMsg](b)
		if err == nil {
			t.Fatalf("accepted %s", b)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "0812345678") {
			t.Errorf("error quotes the body: %v", err)
		}
	}
}

func TestCanonicalHashIgnoresLayoutOnly(t *testing.T) {
	_, h1, err1 := decode[testMsg](`{"version":1,"eventId":"e1","patient":"a<b"}`)
	_, h2, err2 := decode[testMsg](" {\n \"patient\" : \"a\\u003cb\", \"eventId\":\"e1\",\"version\":1 } ")
	_, h3, err3 := decode[testMsg](`{"version":1,"eventId":"e1","patient":"a<c"}`)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if h1 != h2 {
		t.Errorf("same payload, different layout: %s != %s", h1, h2)
	}
	if h1 == h3 {
		t.Error("different payloads have the same hash")
	}
}

// pointerMsg checks that pointer message types work (and that a body of
// null cannot leave a nil pointer to call methods on).
type pointerMsg struct {
	ID string `json:"id"`
}

func (m *pointerMsg) DedupeKey() string { return m.ID }
func (m *pointerMsg) Validate() error   { return nil }

func TestDecodePointerType(t *testing.T) {
	m, err := Decode[*pointerMsg](`{"id":"x"}`)
	if err != nil || m == nil || m.ID != "x" {
		t.Fatalf("Decode = %+v, %v", m, err)
	}
	if _, err := Decode[*pointerMsg](`null`); err == nil {
		t.Fatal("null accepted")
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("ก", 500) // 3 bytes each
	got := truncate(s, maxDetail)
	if len(got) > maxDetail || !strings.HasSuffix(got, "...") {
		t.Fatalf("len %d, suffix %q", len(got), got[len(got)-3:])
	}
	if !strings.HasPrefix(s, strings.TrimSuffix(got, "...")) {
		t.Error("truncate split a character")
	}
	if truncate("short", maxDetail) != "short" {
		t.Error("short string changed")
	}
}

// FuzzDecode checks that the strict decoder never panics and that whatever it
// accepts is a single JSON object that decodes again to the same message and
// hash.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"eventId":"e1"}`,
		`{"version":1,"eventId":"e1","items":[{"code":"a"}]}`,
		`{"version":2,"eventId":"e1","x":1}`,
		`{"version":1,"eventId":"e1","eventId":"e1"}`,
		`{"Version":1,"EVENTID":"e1"}`,
		`[1,2,3]`, `null`, `{}`, `{"a":{"b":{"c":[[[]]]}}}`, "{\"eventId\":\"\xff\"}", `{"version":1e400}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		msg, hash, err := decode[testMsg](b)
		if err != nil {
			if !apperr.IsPermanent(err) {
				t.Fatalf("non-permanent decode error %v", err)
			}
			return
		}
		if msg.Version != 1 || msg.EventID == "" || len(hash) != 64 {
			t.Fatalf("accepted %q as %+v (hash %q)", b, msg, hash)
		}
		again, hash2, err := decode[testMsg](b)
		if err != nil || hash2 != hash || again.EventID != msg.EventID {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}
