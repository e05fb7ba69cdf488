package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/domain"
)

// Stored format. Every entity item (branch, hours, resource, service,
// appointment, history entry, campaign, participant) is written by a mapping
// function of this package (items_*.go) from its domain type, with attribute
// names declared here, not derived from the domain's (or the API's) JSON: a
// renamed domain field or JSON tag changes nothing in the table.
//
// attrFormat ("fv", a number) is the item's stored format version. Items
// written before it existed have none: that is format 0, the public JSON
// document of the entity converted to DynamoDB types (object → M, array → L,
// string → S, number → N, bool → BOOL, null → NULL). Format 1 keeps format
// 0's attribute names and value shapes (times are RFC 3339 strings with the
// offset they were written with, nanoseconds when non-zero; Money is
// {value, currency}; a nil list is NULL, an empty one an empty L), so format 0
// items decode with the same code and the update expressions that name
// attributes (version, status, reason, participant.name, ...) work on both.
// Format 1 leaves out what format 0 wrote as NULL for a zero Money. A reader
// refuses an item of a format newer than it knows (written by newer code)
// rather than misread it. testdata/v0_*.json are items captured from the
// format 0 writer; format_test.go proves they still decode.
const (
	attrFormat = "fv"
	// formatVersion is the format this code writes.
	formatVersion = 1
)

// item is an item (or a nested M) being encoded.
type item map[string]types.AttributeValue

func newItem(n int) item { return make(item, n+8) }

func (it item) str(name, v string) { it[name] = avS(v) }

// optStr writes v unless it is empty.
func (it item) optStr(name, v string) {
	if v != "" {
		it[name] = avS(v)
	}
}

func (it item) num(name string, v int64) { it[name] = avN(v) }

// optNum writes v unless it is 0.
func (it item) optNum(name string, v int64) {
	if v != 0 {
		it[name] = avN(v)
	}
}

func (it item) boolean(name string, v bool) { it[name] = &types.AttributeValueMemberBOOL{Value: v} }

// time writes t as RFC 3339 with its offset (and nanoseconds when non-zero).
func (it item) time(name string, t time.Time) { it[name] = avS(t.Format(time.RFC3339Nano)) }

// optTime writes t unless it is the zero time.
func (it item) optTime(name string, t time.Time) {
	if !t.IsZero() {
		it.time(name, t)
	}
}

func (it item) m(name string, v item) { it[name] = &types.AttributeValueMemberM{Value: v} }

// list writes a list of n elements built by el; a nil list (isNil) is NULL.
func (it item) list(name string, isNil bool, n int, el func(i int) types.AttributeValue) {
	if isNil {
		it[name] = &types.AttributeValueMemberNULL{Value: true}
		return
	}
	l := make([]types.AttributeValue, n)
	for i := range l {
		l[i] = el(i)
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}

// optList writes a list unless it is empty.
func (it item) optList(name string, n int, el func(i int) types.AttributeValue) {
	if n > 0 {
		it.list(name, false, n, el)
	}
}

func (it item) strs(name string, v []string) {
	it.list(name, v == nil, len(v), func(i int) types.AttributeValue { return avS(v[i]) })
}

// optStrMap writes a map of strings unless it is empty.
func (it item) optStrMap(name string, v map[string]string) {
	if len(v) == 0 {
		return
	}
	m := make(item, len(v))
	for k, s := range v {
		m[k] = avS(s)
	}
	it.m(name, m)
}

func avM(v item) types.AttributeValue { return &types.AttributeValueMemberM{Value: v} }

// stamp adds the key attributes, the entity name and the format version.
func (it item) stamp(pk, sk, entity string) item {
	it[attrPK] = avS(pk)
	it[attrSK] = avS(sk)
	it[attrEntity] = avS(entity)
	it[attrFormat] = avN(formatVersion)
	return it
}

// reader decodes an item (or a nested M). An absent or NULL attribute reads
// as the zero value; an attribute of the wrong type or an unparsable value
// records the first error, returned by err (the values read after it are
// zero). Other attributes are ignored.
type reader struct {
	item map[string]types.AttributeValue
	path string // for errors: where this M sits in the item
	fail *error
}

func newReader(it map[string]types.AttributeValue) reader {
	var err error
	return reader{item: it, fail: &err}
}

func (r reader) err() error { return *r.fail }

func (r reader) failf(name, format string, args ...any) {
	if *r.fail == nil {
		*r.fail = fmt.Errorf("dynamo: attribute %s%s: %s", r.path, name, fmt.Sprintf(format, args...))
	}
}

// get returns the attribute, nil if absent or NULL.
func (r reader) get(name string) types.AttributeValue {
	av := r.item[name]
	if _, null := av.(*types.AttributeValueMemberNULL); null {
		return nil
	}
	return av
}

func (r reader) str(name string) string {
	switch v := r.get(name).(type) {
	case nil:
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		r.failf(name, "%T, want S", v)
	}
	return ""
}

func (r reader) num(name string) int64 {
	switch v := r.get(name).(type) {
	case nil:
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			r.failf(name, "%q is not an integer", v.Value)
		}
		return n
	default:
		r.failf(name, "%T, want N", v)
	}
	return 0
}

func (r reader) int(name string) int { return int(r.num(name)) }

func (r reader) boolean(name string) bool {
	switch v := r.get(name).(type) {
	case nil:
	case *types.AttributeValueMemberBOOL:
		return v.Value
	default:
		r.failf(name, "%T, want BOOL", v)
	}
	return false
}

func (r reader) time(name string) time.Time {
	s := r.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.failf(name, "%q is not an RFC 3339 time", s)
	}
	return t
}

// m returns a reader of a nested M and whether it is present.
func (r reader) m(name string) (reader, bool) {
	sub := reader{path: r.path + name + ".", fail: r.fail}
	switch v := r.get(name).(type) {
	case nil:
		return sub, false
	case *types.AttributeValueMemberM:
		sub.item = v.Value
		return sub, true
	default:
		r.failf(name, "%T, want M", v)
		return sub, false
	}
}

// list returns the elements of an L; nil (not empty) if absent or NULL.
func (r reader) list(name string) []types.AttributeValue {
	switch v := r.get(name).(type) {
	case nil:
	case *types.AttributeValueMemberL:
		if v.Value == nil {
			return []types.AttributeValue{}
		}
		return v.Value
	default:
		r.failf(name, "%T, want L", v)
	}
	return nil
}

// maps returns readers of the elements of an L of Ms; nil if absent or NULL.
func (r reader) maps(name string) []reader {
	l := r.list(name)
	if l == nil {
		return nil
	}
	out := make([]reader, len(l))
	for i, e := range l {
		out[i] = reader{path: fmt.Sprintf("%s%s[%d].", r.path, name, i), fail: r.fail}
		if m, ok := e.(*types.AttributeValueMemberM); ok {
			out[i].item = m.Value
		} else {
			r.failf(fmt.Sprintf("%s[%d]", name, i), "%T, want M", e)
		}
	}
	return out
}

func (r reader) strs(name string) []string {
	l := r.list(name)
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, e := range l {
		if s, ok := e.(*types.AttributeValueMemberS); ok {
			out[i] = s.Value
		} else {
			r.failf(fmt.Sprintf("%s[%d]", name, i), "%T, want S", e)
		}
	}
	return out
}

// strMap returns an M of strings; nil if absent, NULL or empty.
func (r reader) strMap(name string) map[string]string {
	sub, ok := r.m(name)
	if !ok || len(sub.item) == 0 {
		return nil
	}
	out := make(map[string]string, len(sub.item))
	for k := range sub.item {
		out[k] = sub.str(k)
	}
	return out
}

// checkFormat records an error if the item's format is newer than this
// code knows.
func (r reader) checkFormat() {
	if v := r.num(attrFormat); v < 0 || v > formatVersion {
		r.failf(attrFormat, "stored format %d is unknown to this reader (newest %d)", v, formatVersion)
	}
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
