package consumer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/apperr"
)

// maxDepth bounds the nesting of a message body. Real messages are a few
// levels deep; the bound keeps a hostile body from costing deep recursion.
const maxDepth = 64

// MaxDedupeKeyLength bounds a message's DedupeKey in bytes; a longer key is
// invalid. It keeps the idempotency record's key well inside DynamoDB's
// partition key limit.
const MaxDedupeKeyLength = 512

// maxNameInError bounds a member name quoted in an error message.
const maxNameInError = 64

// Decode decodes body strictly into a T and validates it, exactly as the
// consumer does before running a handler: body must be valid UTF-8 holding
// exactly one JSON object whose member names are all known to T, spelled with
// their exact case and not repeated; then T's Validate must accept it and its
// DedupeKey must be 1..MaxDedupeKeyLength bytes. Every error it returns is
// permanent (apperr.IsPermanent). Message types use it in their tests.
func Decode[T Message](body string) (T, error) {
	msg, _, err := decode[T](body)
	return msg, err
}

// decode is Decode that also returns the SHA-256 (hex) of the body's
// canonical JSON, which identifies the payload for idempotency regardless of
// whitespace and member order.
func decode[T Message](body string) (msg T, hash string, err error) {
	tree, canon, err := canonicalJSON([]byte(body))
	if err != nil {
		return msg, "", reject(ReasonUndecodable, err)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msg); err != nil {
		var zero T
		return zero, "", rejectUndecodable[T](body, err)
	}
	// canonicalJSON has already checked that nothing follows the object.
	if err := checkExactNames(tree, msg); err != nil {
		var zero T
		return zero, "", reject(ReasonUndecodable, err)
	}
	if err := msg.Validate(); err != nil {
		if apperr.IsUnknownVersion(err) {
			return msg, "", reject(ReasonUnknownVersion, err)
		}
		return msg, "", reject(ReasonInvalid, err)
	}
	switch k := msg.DedupeKey(); {
	case k == "":
		return msg, "", reject(ReasonInvalid, errors.New("empty dedupe key"))
	case len(k) > MaxDedupeKeyLength:
		return msg, "", reject(ReasonInvalid, fmt.Errorf("dedupe key longer than %d bytes", MaxDedupeKeyLength))
	}
	sum := sha256.Sum256(canon)
	return msg, hex.EncodeToString(sum[:]), nil
}

// rejectUndecodable classifies a strict decoding failure. A newer producer's
// message usually has new members as well as a new version, so strict
// decoding fails before Validate could see the version: if a lenient decoding
// of the same body makes Validate report apperr.ErrUnknownVersion, the reason is
// unknown_version, which tells the operator what to do. Only unknown
// members are forgiven: with a type error the version itself may be wrong.
func rejectUndecodable[T Message](body string, strictErr error) error {
	var lenient T
	if err := json.Unmarshal([]byte(body), &lenient); err == nil {
		if verr := safeValidate(lenient); apperr.IsUnknownVersion(verr) {
			return reject(ReasonUnknownVersion, fmt.Errorf("%w (and %v)", verr, strictErr))
		}
	}
	return reject(ReasonUndecodable, strictErr)
}

// safeValidate calls Validate on a partially decoded value, which a message
// type need not be prepared for: a panic counts as "not an unknown version".
func safeValidate[T Message](m T) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("validate panicked")
		}
	}()
	return m.Validate()
}

// canonicalJSON parses body, which must be valid UTF-8 holding exactly one
// JSON object without duplicate member names, and returns its tree (objects
// as map[string]any, numbers as json.Number) and canonical encoding (members
// sorted by name, no insignificant whitespace, numbers as written).
func canonicalJSON(body []byte) (any, []byte, error) {
	if !utf8.Valid(body) {
		return nil, nil, errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("body is not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("body is not a JSON object")
	}
	tree, err := parseValue(dec, tok, 1)
	if err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("body holds more than one JSON value")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, nil, fmt.Errorf("canonical encoding: %w", err)
	}
	return tree, bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// parseValue parses the value that starts with tok.
func parseValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("body nests deeper than %d levels", maxDepth)
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("body is not JSON: %w", err)
			}
			name, _ := kt.(string)
			if _, dup := obj[name]; dup {
				return nil, fmt.Errorf("duplicate member name %q", truncate(name, maxNameInError))
			}
			vt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("body is not JSON: %w", err)
			}
			if obj[name], err = parseValue(dec, vt, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, fmt.Errorf("body is not JSON: %w", err)
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			vt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("body is not JSON: %w", err)
			}
			v, err := parseValue(dec, vt, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, fmt.Errorf("body is not JSON: %w", err)
		}
		return arr, nil
	}
	return nil, fmt.Errorf("body is not JSON: unexpected %v", d)
}

// checkExactNames rejects member names that encoding/json matched to a field
// only case-insensitively ("EventID" for "eventId"): the body is compared
// with the re-encoded message, and a name absent from it but equal to one of
// its names up to case is an error. Names absent for other reasons (omitempty,
// custom marshalers) are left alone.
func checkExactNames(in any, msg any) error {
	out, err := json.Marshal(msg)
	if err != nil {
		return nil // cannot compare; the strict decoding stands
	}
	var tree any
	if err := json.Unmarshal(out, &tree); err != nil {
		return nil
	}
	return compareNames(in, tree, 0)
}

func compareNames(in, out any, depth int) error {
	if depth > maxDepth {
		return nil
	}
	switch iv := in.(type) {
	case map[string]any:
		ov, ok := out.(map[string]any)
		if !ok {
			return nil
		}
		for name, child := range iv {
			if oc, ok := ov[name]; ok {
				if err := compareNames(child, oc, depth+1); err != nil {
					return err
				}
				continue
			}
			for oname := range ov {
				if strings.EqualFold(oname, name) {
					return fmt.Errorf("member name %q must be spelled %q", truncate(name, maxNameInError), truncate(oname, maxNameInError))
				}
			}
		}
	case []any:
		ov, ok := out.([]any)
		if !ok || len(ov) != len(iv) {
			return nil
		}
		for i := range iv {
			if err := compareNames(iv[i], ov[i], depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
