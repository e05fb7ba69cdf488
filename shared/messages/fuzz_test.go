package messages

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
)

// The fuzz targets decode arbitrary bodies (go test -fuzz=FuzzDecodePOSOrder
// ./shared/messages) and check that the decoder never panics, that every
// error is VALIDATION_FAILED, that an accepted message encodes to a body that
// decodes to the same message, and that the decoder and the JSON Schema agree
// on every body (accept ⇔ valid) within the limits the schema cannot express.
// Without -fuzz they run their seeds: every example of the kind.

func FuzzDecodeLISSampleStatus(f *testing.F) { fuzzDecode(f, "lis-sample-status") }

func FuzzDecodePOSOrder(f *testing.F) { fuzzDecode(f, "pos-order") }

func FuzzDecodeCheckupRoster(f *testing.F) { fuzzDecode(f, "checkup-roster") }

func FuzzDecodePatientEvent(f *testing.F) { fuzzDecode(f, "patient-event") }

// hugeExponent matches numbers the schema validator would expand with
// math/big (slowly); the decoder refuses them cheaply, so they are not
// compared.
var hugeExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{4,}`)

func fuzzDecode(f *testing.F, name string) {
	k := kindNamed(f, name)
	compiled(f)
	seeds, _ := filepath.Glob(filepath.Join(examplesDir, name, "*.json"))
	for _, dir := range []string{"invalid", "beyond-schema"} {
		more, _ := filepath.Glob(filepath.Join(examplesDir, dir, name+".*.json"))
		seeds = append(seeds, more...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := k.decode(body)
		if err != nil {
			if !apperr.Is(err, apperr.Validation) {
				t.Fatalf("error %v is not VALIDATION_FAILED", err)
			}
			if strings.Contains(err.Error(), "INTERNAL") {
				t.Fatalf("internal error: %v", err)
			}
		} else {
			out, merr := json.Marshal(m)
			if merr != nil {
				t.Fatalf("encoding an accepted message: %v", merr)
			}
			again, derr := k.decode(out)
			if derr != nil {
				t.Fatalf("re-decoding %s: %v", out, derr)
			}
			out2, _ := json.Marshal(again)
			if !bytes.Equal(out, out2) {
				t.Fatalf("round trip changed the message:\n%s\n%s", out, out2)
			}
		}
		if len(body) > MaxBodyBytes || hugeExponent.Match(body) {
			return
		}
		serr := schemaVerdict(t, k, body)
		if (err == nil) != (serr == nil) {
			t.Fatalf("decoder and schema disagree on %q\ndecoder: %v\nschema: %v", body, err, serr)
		}
	})
}

// fieldPaths are members of one valid example per kind that FuzzFieldValues
// replaces: the string rules (ids, dates, decimals, phones, emails, text) are
// where a schema and a decoder most easily disagree.
var fieldPaths = []struct {
	kind, example string
	path          []string // object members; a number indexes an array
}{
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"eventId"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"occurredAt"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"appointmentId"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"status"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"reason"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"sequence"}},
	{"lis-sample-status", "rejected-haemolysed-thai-reason.json", []string{"schemaVersion"}},
	{"pos-order", "paid-promptpay.json", []string{"type"}},
	{"pos-order", "paid-promptpay.json", []string{"amount", "value"}},
	{"pos-order", "paid-promptpay.json", []string{"amount", "currency"}},
	{"pos-order", "paid-promptpay.json", []string{"items", "0", "price"}},
	{"pos-order", "paid-promptpay.json", []string{"items", "0", "name"}},
	{"pos-order", "paid-promptpay.json", []string{"items", "0", "qty"}},
	{"pos-order", "paid-promptpay.json", []string{"paymentMethod"}},
	{"pos-order", "created-jpy.json", []string{"amount", "value"}},
	{"pos-order", "refunded-partial-whole-baht.json", []string{"amount", "value"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"window", "from"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "phone"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "email"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "name"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "locale"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "preferredDate"}},
	{"checkup-roster", "single-participant-one-day.json", []string{"participants", "0", "externalId"}},
	{"patient-event", "upserted-guardian-with-child.json", []string{"version"}},
	{"patient-event", "upserted-guardian-with-child.json", []string{"lineUserId"}},
	{"patient-event", "upserted-guardian-with-child.json", []string{"birthDate"}},
	{"patient-event", "upserted-guardian-with-child.json", []string{"dependents", "0", "relation"}},
	{"patient-event", "upserted-guardian-with-child.json", []string{"dependents", "0", "consentAt"}},
	{"patient-event", "merged.json", []string{"intoPatientId"}},
	{"patient-event", "erased.json", []string{"type"}},
}

// FuzzFieldValues replaces one member of a valid example with a fuzzed value
// (a JSON string, or raw JSON when raw is set and the value is JSON) and
// checks that the decoder and the schema agree.
func FuzzFieldValues(f *testing.F) {
	compiled(f)
	for i := range fieldPaths {
		for _, v := range []string{"", " ", "x", "2026-12-01", "2026-12-01T08:00:00+07:00", "1250.00", "1250.005", "+66812345678",
			"a@b.co", "th", "ก", "\u0085", "\t", "0", "JPY", "order.paid", "collected", "1", "1.0", "null", "{}"} {
			f.Add(uint8(i), v, false)
			f.Add(uint8(i), v, true)
		}
	}
	examples := map[string]map[string]any{}
	for _, fp := range fieldPaths {
		key := fp.kind + "/" + fp.example
		if _, ok := examples[key]; ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(example(f, key), &m); err != nil {
			f.Fatal(err)
		}
		examples[key] = m
	}
	f.Fuzz(func(t *testing.T, which uint8, value string, raw bool) {
		fp := fieldPaths[int(which)%len(fieldPaths)]
		k := kindNamed(t, fp.kind)
		var doc any
		b, _ := json.Marshal(examples[fp.kind+"/"+fp.example])
		_ = json.Unmarshal(b, &doc) // a deep copy
		var v any = value
		if raw {
			if err := json.Unmarshal([]byte(value), &v); err != nil {
				return
			}
		}
		set(doc, fp.path, v)
		body, err := json.Marshal(doc)
		if err != nil || hugeExponent.Match(body) {
			return
		}
		_, derr := k.decode(body)
		if derr != nil && !apperr.Is(derr, apperr.Validation) {
			t.Fatalf("error %v is not VALIDATION_FAILED", derr)
		}
		serr := schemaVerdict(t, k, body)
		if (derr == nil) != (serr == nil) {
			t.Fatalf("decoder and schema disagree on %v = %q\ndecoder: %v\nschema: %v", fp.path, value, derr, serr)
		}
	})
}

// set assigns v at path in a tree of maps and slices.
func set(doc any, path []string, v any) {
	for i, p := range path {
		last := i == len(path)-1
		switch node := doc.(type) {
		case map[string]any:
			if last {
				node[p] = v
				return
			}
			doc = node[p]
		case []any:
			n := 0
			for _, c := range p {
				n = n*10 + int(c-'0')
			}
			if last {
				node[n] = v
				return
			}
			doc = node[n]
		}
	}
}
