package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/domain"
)

// Entities are stored as their public JSON document converted to DynamoDB
// types (object → M, array → L, string → S, number → N, bool → BOOL,
// null → NULL). Times are therefore RFC 3339 strings with the offset they were
// written with, and reading an item back and marshalling it gives exactly the
// JSON that was stored. Key and internal attributes are added next to the
// document's fields; decoding ignores them.

// toItem converts v's JSON representation (an object) into an item.
func toItem(v any) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	item := make(map[string]types.AttributeValue, len(doc)+8)
	for k, x := range doc {
		item[k] = toAV(x)
	}
	return item, nil
}

func toAV(x any) types.AttributeValue {
	switch x := x.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}
	case string:
		return &types.AttributeValueMemberS{Value: x}
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			l[i] = toAV(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			m[k] = toAV(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	default:
		panic(fmt.Sprintf("dynamo: unexpected JSON value %T", x))
	}
}

// fromItem decodes an item written by toItem into v (a pointer).
func fromItem(item map[string]types.AttributeValue, v any) error {
	var buf bytes.Buffer
	if err := writeJSON(&buf, &types.AttributeValueMemberM{Value: item}); err != nil {
		return err
	}
	return json.Unmarshal(buf.Bytes(), v)
}

// writeJSON writes an attribute value as JSON. Sets and binaries never occur
// in documents written by toItem; they are written as arrays and base64 so
// that a hand-edited item still decodes.
func writeJSON(buf *bytes.Buffer, av types.AttributeValue) error {
	switch av := av.(type) {
	case *types.AttributeValueMemberNULL:
		buf.WriteString("null")
	case *types.AttributeValueMemberBOOL:
		buf.WriteString(strconv.FormatBool(av.Value))
	case *types.AttributeValueMemberN:
		buf.WriteString(av.Value)
	case *types.AttributeValueMemberS:
		b, _ := json.Marshal(av.Value)
		buf.Write(b)
	case *types.AttributeValueMemberB:
		b, _ := json.Marshal(av.Value)
		buf.Write(b)
	case *types.AttributeValueMemberL:
		buf.WriteByte('[')
		for i, e := range av.Value {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case *types.AttributeValueMemberSS:
		b, _ := json.Marshal(av.Value)
		buf.Write(b)
	case *types.AttributeValueMemberNS:
		buf.WriteByte('[')
		for i, n := range av.Value {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(n)
		}
		buf.WriteByte(']')
	case *types.AttributeValueMemberM:
		keys := make([]string, 0, len(av.Value))
		for k := range av.Value {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, _ := json.Marshal(k)
			buf.Write(b)
			buf.WriteByte(':')
			if err := writeJSON(buf, av.Value[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("dynamo: unsupported attribute value %T", av)
	}
	return nil
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func avN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// cellsAV encodes an appointment's cells.
func cellsAV(cells []domain.Cell) types.AttributeValue {
	l := make([]types.AttributeValue, len(cells))
	for i, c := range cells {
		l[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"resourceId": avS(c.ResourceID),
			"start":      avN(c.Start.Unix()),
			"date":       avS(c.Date),
		}}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// cellsFrom decodes an appointment's cells. Cell starts come back in the
// location of the appointment's start (the branch's offset).
func cellsFrom(av types.AttributeValue, loc *time.Location) ([]domain.Cell, error) {
	if av == nil {
		return nil, nil
	}
	l, ok := av.(*types.AttributeValueMemberL)
	if !ok {
		return nil, fmt.Errorf("dynamo: cells: %T, want a list", av)
	}
	if len(l.Value) == 0 {
		return nil, nil
	}
	out := make([]domain.Cell, len(l.Value))
	for i, e := range l.Value {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("dynamo: cell %d: %T, want a map", i, e)
		}
		out[i] = domain.Cell{
			ResourceID: str(m.Value, "resourceId"),
			Start:      time.Unix(num(m.Value, "start"), 0).In(loc),
			Date:       str(m.Value, "date"),
		}
	}
	return out, nil
}
