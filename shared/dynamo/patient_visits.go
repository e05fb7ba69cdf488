package dynamo

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// The patient's visits item (PK PATVISITS#<patientId>, SK #VISITS) makes the
// cap on a patient's upcoming visits exact. It holds
//
//	ids          string set: the ids of the patient's Active visits (booked, checked in)
//	at_<id>      number: that visit's start, unix seconds
//	ver          number: +1 on every write
//
// Every transaction that creates an Active visit, ends one (cancel, no-show,
// complete), moves one (reschedule) or changes its patient writes the item
// too (visitsChanges), so the set is exact at every commit. Time passing
// needs no write: a member whose start has passed simply does not count.
//
// A capped booking adds its id on condition size(ids) < cap: one request,
// the fast path, exact because every member counted is at most one visit
// the patient still holds. When that condition fails the set may hold
// members whose start has passed, so the booking reads the item (strongly
// consistent), counts the members that start after now, and if fewer than
// the cap writes the set anew without the past members, on condition that
// ver is still the one read (bookCappedExact). Concurrent capped bookings of
// one patient all write this one item, so at most cap of them commit.
const (
	skVisits      = "#VISITS"
	entityVisits  = "PATIENT_VISITS"
	attrVisitIDs  = "ids"
	attrVisitsVer = "ver"
	prefixVisitAt = "at_"
)

func patientVisitsPK(patientID string) string { return "PATVISITS#" + patientID }

// errVisitsFull marks a capped booking refused by the fast condition
// (size(ids) < cap); errVisitsChanged one whose exact check lost to a
// concurrent write of the item. Both send the booking to the exact path.
var (
	errVisitsFull    = errors.New("patient visits: set full")
	errVisitsChanged = errors.New("patient visits: changed since read")
)

// visitAdd adds visit id (start) to the patient's set; with cap > 0 only if
// the set has fewer than cap members (role roleVisitsCap), else
// unconditionally (roleVisits; adding a member twice is a no-op).
func (s *Store) visitAdd(patientID, id string, start time.Time, limit int) (txRole, types.TransactWriteItem) {
	u := &types.Update{
		TableName:                s.table,
		Key:                      key(patientVisitsPK(patientID), skVisits),
		UpdateExpression:         aws.String("ADD #ids :id, #ver :one SET #at = :start, #e = :e"),
		ExpressionAttributeNames: map[string]string{"#ids": attrVisitIDs, "#ver": attrVisitsVer, "#at": prefixVisitAt + id, "#e": attrEntity},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberSS{Value: []string{id}}, ":one": avN(1),
			":start": avN(start.Unix()), ":e": avS(entityVisits),
		},
	}
	if limit <= 0 {
		return roleVisits, types.TransactWriteItem{Update: u}
	}
	u.ConditionExpression = aws.String("attribute_not_exists(#ids) OR size(#ids) < :cap")
	u.ExpressionAttributeValues[":cap"] = avN(int64(limit))
	return roleVisitsCap, types.TransactWriteItem{Update: u}
}

// visitRemove removes visit id from the patient's set (a no-op if absent).
func (s *Store) visitRemove(patientID, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                s.table,
		Key:                      key(patientVisitsPK(patientID), skVisits),
		UpdateExpression:         aws.String("DELETE #ids :id REMOVE #at ADD #ver :one SET #e = :e"),
		ExpressionAttributeNames: map[string]string{"#ids": attrVisitIDs, "#ver": attrVisitsVer, "#at": prefixVisitAt + id, "#e": attrEntity},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberSS{Value: []string{id}}, ":one": avN(1), ":e": avS(entityVisits),
		},
	}}
}

// visitsChanges returns the writes of the patients' visit sets that the
// change prev → next needs: none when neither is Active, or when both are
// Active for the same patient at the same start.
func (s *Store) visitsChanges(prev, next domain.Appointment) []types.TransactWriteItem {
	inPrev := prev.Status.Active() && prev.Patient.ID != ""
	inNext := next.Status.Active() && next.Patient.ID != ""
	same := prev.Patient.ID == next.Patient.ID
	var out []types.TransactWriteItem
	if inPrev && !(inNext && same) {
		out = append(out, s.visitRemove(prev.Patient.ID, prev.ID))
	}
	if inNext && (!inPrev || !same || !prev.Start.Equal(next.Start)) {
		_, it := s.visitAdd(next.Patient.ID, next.ID, next.Start, 0)
		out = append(out, it)
	}
	return out
}

// patientVisits is the stored set of a patient: member → start, and ver
// (0 and an empty set if the item does not exist).
type patientVisits struct {
	starts map[string]int64
	ver    int64
	exists bool
}

func (s *Store) readPatientVisits(ctx context.Context, patientID string) (patientVisits, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(patientVisitsPK(patientID), skVisits), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return patientVisits{}, apperr.Wrap(err, "dynamo: read visits of patient")
	}
	v := patientVisits{starts: map[string]int64{}}
	if out.Item == nil {
		return v, nil
	}
	v.exists = true
	v.ver = num(out.Item, attrVisitsVer)
	if ss, ok := out.Item[attrVisitIDs].(*types.AttributeValueMemberSS); ok {
		for _, id := range ss.Value {
			v.starts[id] = num(out.Item, prefixVisitAt+id)
		}
	}
	return v, nil
}

// visitReplace writes the patient's set anew: the members of cur that start
// after now, plus id (start), dropping the others and their starts; on
// condition that ver is still cur's (role roleVisitsVersion).
func (s *Store) visitReplace(patientID string, cur patientVisits, now time.Time, id string, start time.Time) types.TransactWriteItem {
	names := map[string]string{"#ids": attrVisitIDs, "#ver": attrVisitsVer, "#at": prefixVisitAt + id, "#e": attrEntity}
	values := map[string]types.AttributeValue{":one": avN(1), ":start": avN(start.Unix()), ":e": avS(entityVisits)}
	keep := []string{id}
	var removes []string
	past := make([]string, 0, len(cur.starts))
	for m := range cur.starts {
		past = append(past, m)
	}
	sort.Strings(past)
	for _, m := range past {
		switch {
		case m == id:
		case cur.starts[m] > now.Unix():
			keep = append(keep, m)
		default:
			n := "#p" + strconv.Itoa(len(removes))
			names[n] = prefixVisitAt + m
			removes = append(removes, n)
		}
	}
	values[":ids"] = &types.AttributeValueMemberSS{Value: keep}
	expr := "SET #ids = :ids, #at = :start, #e = :e ADD #ver :one"
	if len(removes) > 0 {
		expr += " REMOVE " + strings.Join(removes, ", ")
	}
	cond := "attribute_not_exists(#ver)"
	if cur.ver != 0 {
		cond = "#ver = :ver"
		values[":ver"] = avN(cur.ver)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: s.table, Key: key(patientVisitsPK(patientID), skVisits),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

// upcoming counts the members of v that start after now.
func (v patientVisits) upcoming(now time.Time) int {
	n := 0
	for _, at := range v.starts {
		if at > now.Unix() {
			n++
		}
	}
	return n
}

func limitExceeded(limit int) error {
	return apperr.E(apperr.LimitExceeded, "a patient may hold at most %d upcoming appointments", limit)
}

// CreateAppointmentGuarded implements app.Store.CreateAppointmentGuarded:
// CreateAppointment's transaction with the patient's visit set updated on
// condition size(ids) < g.MaxUpcoming (one request); if that fails, the
// exact path: read the set, count the members upcoming at g.Now, and book
// with the set rewritten on condition that it did not change meanwhile,
// reading again after such a change (at most app.MaxUpdateAttempts times).
func (s *Store) CreateAppointmentGuarded(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, g app.Guard) error {
	checked := func(visits func(*txBuilder)) func(*txBuilder) {
		return func(b *txBuilder) {
			if g.CheckCatalog {
				b.add(roleCatalog, s.catalogCheck(a.BranchID, g.CatalogVersion))
			}
			visits(b)
		}
	}
	if g.MaxUpcoming <= 0 || a.Patient.ID == "" || !a.Status.Active() {
		return s.create(ctx, a, h, ev, checked(s.addVisit(a)))
	}
	err := s.create(ctx, a, h, ev, checked(func(b *txBuilder) {
		b.add(s.visitAdd(a.Patient.ID, a.ID, a.Start, g.MaxUpcoming))
	}))
	for range app.MaxUpdateAttempts {
		if !errors.Is(err, errVisitsFull) && !errors.Is(err, errVisitsChanged) {
			return err
		}
		cur, rerr := s.readPatientVisits(ctx, a.Patient.ID)
		if rerr != nil {
			return rerr
		}
		if cur.upcoming(g.Now) >= g.MaxUpcoming {
			return limitExceeded(g.MaxUpcoming)
		}
		err = s.create(ctx, a, h, ev, checked(func(b *txBuilder) {
			b.add(roleVisitsVersion, s.visitReplace(a.Patient.ID, cur, g.Now, a.ID, a.Start))
		}))
	}
	if errors.Is(err, errVisitsChanged) || errors.Is(err, errVisitsFull) {
		return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage, Err: err}
	}
	return err
}
