package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
)

// A cursor is base64url (unpadded) of the JSON object of the last returned
// item's key attributes on the index: PK, SK and the index's PK/SK, all
// strings. It is opaque to clients.

func encodeCursor(item map[string]types.AttributeValue, pkAttr, skAttr string) string {
	k := map[string]string{}
	for _, a := range []string{attrPK, attrSK, pkAttr, skAttr} {
		k[a] = str(item, a)
	}
	data, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodeCursor returns the ExclusiveStartKey of a cursor, nil for "". It
// refuses (VALIDATION_FAILED "invalid cursor") anything that is not exactly
// the key of an appointment in the partition being queried, so a cursor
// cannot pivot a list into another branch or patient.
func decodeCursor(cursor, pkAttr, skAttr, pk string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	invalid := apperr.E(apperr.Validation, "invalid cursor")
	data, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, invalid
	}
	var k map[string]string
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, invalid
	}
	if len(k) != 4 || k[pkAttr] != pk || k[attrSK] != skMeta ||
		!strings.HasPrefix(k[attrPK], apptPK("")) || len(k[attrPK]) == len(apptPK("")) ||
		!strings.HasSuffix(k[skAttr], "#"+strings.TrimPrefix(k[attrPK], apptPK(""))) {
		return nil, invalid
	}
	key := make(map[string]types.AttributeValue, 4)
	for _, a := range []string{attrPK, attrSK, pkAttr, skAttr} {
		key[a] = avS(k[a])
	}
	return key, nil
}
