package consumer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/strictjson"
)

// maxDepth bounds the nesting of a message body. Real messages are a few
// levels deep; the bound keeps a hostile body from costing deep recursion.
const maxDepth = 64

// MaxDedupeKeyLength bounds a message's DedupeKey in bytes; a longer key is
// invalid. It keeps the idempotency record's key well inside DynamoDB's
// partition key limit.
const MaxDedupeKeyLength = 512

// Decode decodes body strictly into a T and validates it, exactly as the
// consumer does before running a handler: body must be valid UTF-8 holding
// exactly one JSON object whose member names are all known to T, spelled with
// their exact case and not repeated; then T's Validate must accept it and its
// DedupeKey must be 1..MaxDedupeKeyLength bytes. The strict decoding is
// shared/strictjson's (at most maxDepth levels). Every error it returns is
// permanent (apperr.IsPermanent). Message types use it in their tests.
func Decode[T Message](body string) (T, error) {
	msg, _, err := decode[T](body)
	return msg, err
}

// decode is Decode that also returns the SHA-256 (hex) of the body's
// canonical JSON (strictjson.Canonical), which identifies the payload for
// idempotency regardless of whitespace and member order.
func decode[T Message](body string) (msg T, hash string, err error) {
	b := []byte(body)
	tree, err := strictjson.Parse(b, strictjson.Options{MaxDepth: maxDepth})
	if err != nil {
		return msg, "", reject(ReasonUndecodable, err)
	}
	if err := strictjson.Decode(b, &msg, strictjson.Options{MaxDepth: maxDepth}); err != nil {
		var zero T
		return zero, "", rejectUndecodable[T](body, err)
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
	canon, err := strictjson.Canonical(tree)
	if err != nil {
		return msg, "", reject(ReasonUndecodable, err)
	}
	sum := sha256.Sum256(canon)
	return msg, hex.EncodeToString(sum[:]), nil
}

// rejectUndecodable classifies a strict decoding failure. A newer producer's
// message usually has new members as well as a new version, so strict
// decoding fails before Validate could see the version: if a lenient decoding
// of the same body makes Validate report apperr.ErrUnknownVersion, the reason is
// unknown_version, which tells the operator what to do. Only unknown
// members are forgiven (strictjson.UnknownMember): with a type error the
// version itself may be wrong.
func rejectUndecodable[T Message](body string, strictErr error) error {
	var e *strictjson.Error
	if errors.As(strictErr, &e) && e.Kind == strictjson.UnknownMember {
		var lenient T
		if err := json.Unmarshal([]byte(body), &lenient); err == nil {
			if verr := safeValidate(lenient); apperr.IsUnknownVersion(verr) {
				return reject(ReasonUnknownVersion, fmt.Errorf("%w (and %v)", verr, strictErr))
			}
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
