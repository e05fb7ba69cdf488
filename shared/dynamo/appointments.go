package dynamo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

// MaxTransactItems is DynamoDB's limit of items in one transaction.
const MaxTransactItems = 100

// occupancyParallelism bounds the concurrent per-date queries of Occupancy.
const occupancyParallelism = 8

// Occupancy returns the held cells of a branch on the given local dates: one
// strongly consistent Query per date (pages followed), at most 8 at a time.
func (s *Store) Occupancy(ctx context.Context, branchID string, dates []string) (domain.Occupancy, error) {
	occ := domain.Occupancy{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, occupancyParallelism)
		seen     = map[string]bool{}
	)
	for _, date := range dates {
		if seen[date] {
			continue
		}
		seen[date] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			err := s.queryAll(ctx, &dynamodb.QueryInput{
				KeyConditionExpression:    aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(cellsPK(branchID, date))},
				ProjectionExpression:      aws.String("SK, " + attrAppointmentID),
			}, func(item map[string]types.AttributeValue) error {
				k, ok := parseCellSK(str(item, attrSK))
				if !ok {
					return fmt.Errorf("malformed cell key %q", str(item, attrSK))
				}
				mu.Lock()
				occ[k] = str(item, attrAppointmentID)
				mu.Unlock()
				return nil
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("date %s: %w", date, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, apperr.Wrap(firstErr, "dynamo: occupancy of %s", branchID)
	}
	if err := ctx.Err(); err != nil && len(seen) > 0 {
		// Only the parent's cancellation can get here (ours runs on error).
		return nil, apperr.Wrap(err, "dynamo: occupancy of %s", branchID)
	}
	return occ, nil
}

// OccupancyRange returns the held cells of a branch on the local dates from
// to to (inclusive, YYYY-MM-DD) with one Query of the branch's cell range in
// GSI1 (pages followed). The index is eventually consistent: a cell taken or
// released a moment ago may be missing or still present. Fine for an
// availability answer (booking a slot shown free but just taken is refused by
// the booking transaction); booking decisions use Occupancy.
func (s *Store) OccupancyRange(ctx context.Context, branchID, from, to string) (domain.Occupancy, error) {
	occ := domain.Occupancy{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": avS(branchCellsGSI1PK(branchID)), ":from": avS(from), ":to": avS(cellRangeEnd(to)),
		},
		ProjectionExpression: aws.String("GSI1SK, " + attrAppointmentID),
	}, func(item map[string]types.AttributeValue) error {
		k, ok := parseCellGSI1SK(str(item, attrGSI1SK))
		if !ok {
			return fmt.Errorf("malformed cell index key %q", str(item, attrGSI1SK))
		}
		occ[k] = str(item, attrAppointmentID)
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: occupancy of %s from %s to %s", branchID, from, to)
	}
	return occ, nil
}

// GetAppointment returns an appointment (strongly consistent read) or NOT_FOUND.
func (s *Store) GetAppointment(ctx context.Context, id string) (domain.Appointment, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      s.table,
		Key:            key(apptPK(id), skMeta),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Appointment{}, apperr.Wrap(err, "dynamo: get appointment %s", id)
	}
	if out.Item == nil {
		return domain.Appointment{}, apperr.E(apperr.NotFound, "appointment %s not found", id)
	}
	a, err := appointmentFrom(out.Item)
	if err != nil {
		return domain.Appointment{}, apperr.Wrap(err, "dynamo: decode appointment %s", id)
	}
	return a, nil
}

// appointmentItem encodes an appointment with its keys and cells.
func appointmentItem(a domain.Appointment) (map[string]types.AttributeValue, error) {
	date := apptLocalDate(a)
	item := appointmentAttrs(a).stamp(apptPK(a.ID), skMeta, entityAppointment)
	item[attrGSI1PK] = avS(branchDayPK(a.BranchID, date))
	item[attrGSI1SK] = avS(apptStartSK(a))
	item[attrGSI2PK] = avS(patientPK(a.Patient.ID))
	item[attrGSI2SK] = avS(apptStartSK(a))
	item[attrLocalDate] = avS(date)
	item[attrCells] = cellsAV(a.Cells)
	return item, nil
}

// appointmentFrom decodes an appointment item (also usable on stream images
// converted to SDK attribute values).
func appointmentFrom(item map[string]types.AttributeValue) (domain.Appointment, error) {
	a, err := appointmentAttrsFrom(item)
	if err != nil {
		return a, err
	}
	cells, err := cellsFrom(item[attrCells], a.Start.Location())
	if err != nil {
		return a, err
	}
	a.Cells = cells
	return a, nil
}

// AppointmentFromItem decodes an appointment item as stored by this package,
// for consumers of the table's stream (NEW_AND_OLD_IMAGES) or of exports.
func AppointmentFromItem(item map[string]types.AttributeValue) (domain.Appointment, error) {
	return appointmentFrom(item)
}

func historyItem(appointmentID string, h domain.HistoryEntry, version int) (map[string]types.AttributeValue, error) {
	return historyAttrs(h).stamp(apptPK(appointmentID), historySK(h, version), entityHistory), nil
}

func cellItem(branchID string, c domain.Cell, appointmentID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:            avS(cellsPK(branchID, c.Date)),
		attrSK:            avS(cellSK(c.ResourceID, c.Start)),
		attrGSI1PK:        avS(branchCellsGSI1PK(branchID)),
		attrGSI1SK:        avS(cellGSI1SK(c.Date, c.ResourceID, c.Start)),
		attrAppointmentID: avS(appointmentID),
		attrEntity:        avS(entityCell),
		attrTTL:           avN(c.Start.Add(cellTTL).Unix()),
	}
}

// cellID identifies a cell item.
type cellID struct{ pk, sk string }

func cellIDOf(branchID string, c domain.Cell) cellID {
	return cellID{cellsPK(branchID, c.Date), cellSK(c.ResourceID, c.Start)}
}

// Roles of the items of a booking transaction, for mapping cancellation
// reasons back to errors.
type txRole int

const (
	roleAppointment txRole = iota
	roleHistory
	roleTakeCell
	roleReleaseCell
	roleIdempotency
	roleOutbox
	// roleVisits writes a patient's visit set without a condition,
	// roleVisitsCap on condition that it has room (size < cap),
	// roleVisitsVersion on condition that it is unchanged since read.
	roleVisits
	roleVisitsCap
	roleVisitsVersion
	// roleBranch checks that the branch exists (a catalog write),
	// roleCatalog bumps its catalog version (a catalog write) or checks it
	// (a booking planned on a cached catalog).
	roleBranch
	roleCatalog
)

type txBuilder struct {
	items  []types.TransactWriteItem
	roles  []txRole
	create bool // the appointment is new (its failed condition means "exists")
}

func (b *txBuilder) add(role txRole, it types.TransactWriteItem) {
	b.items = append(b.items, it)
	b.roles = append(b.roles, role)
}

// UpdateAppointment implements app.Store.UpdateAppointment: the one
// optimistic-concurrency loop (app.RetryConcurrent) around a strongly
// consistent read, the update closure and writeChange.
func (s *Store) UpdateAppointment(ctx context.Context, id string, update app.UpdateFunc) (domain.Appointment, error) {
	var out domain.Appointment
	var decided error // update's own error: returned as it is, never retried
	err := app.RetryConcurrent(ctx, func() error {
		prev, err := s.GetAppointment(ctx, id)
		if err != nil {
			return err
		}
		c, err := update(prev)
		if err != nil {
			decided = err
			return nil
		}
		if len(c.Steps) == 0 {
			out = prev
			return nil
		}
		if err := s.writeChange(ctx, prev, c); err != nil {
			return err
		}
		out = c.Steps[len(c.Steps)-1].State
		return nil
	})
	if decided != nil {
		return domain.Appointment{}, decided
	}
	if err != nil {
		return domain.Appointment{}, err
	}
	return out, nil
}

// writeChange writes c over prev in one TransactWriteItems: the last step's
// State (a Put conditional on version = prev.Version, CONFLICT otherwise;
// with anonymizedAt if c.Anonymized), each step's history entry and, if its
// event has an id, its outbox record (PENDING, data: the step's State;
// ev.Subject must be the appointment id), a conditional Delete of each cell
// of prev not in the new state, a conditional Put (SLOT_UNAVAILABLE) of each
// new cell, a link item per link (attribute_not_exists, CONFLICT), and the
// completion of the idempotency claim in ctx, if any and not yet Completed
// (body claim.Render(new state)), then sets claim.Completed. Cells in both
// are not touched, so no item appears twice. INTERNAL when a step's State is
// not the next version of the same appointment; VALIDATION_FAILED beyond 100
// items or for a cell taken twice.
func (s *Store) writeChange(ctx context.Context, prev domain.Appointment, c app.Change) error {
	if len(c.Steps) == 0 {
		return apperr.Wrap(fmt.Errorf("no steps"), "dynamo: update appointment %s", prev.ID)
	}
	for i, st := range c.Steps {
		if v := prev.Version + 1 + i; st.State.Version != v || st.State.ID != prev.ID || st.State.BranchID != prev.BranchID {
			return apperr.Wrap(fmt.Errorf("step %d is version %d of %s@%s, want %d of %s@%s", i, st.State.Version, st.State.ID, st.State.BranchID, v, prev.ID, prev.BranchID),
				"dynamo: update appointment %s: id and branch must not change and each step is the next version", prev.ID)
		}
	}
	last := c.Steps[len(c.Steps)-1]
	next := last.State
	claim := idempotency.FromContext(ctx)
	var b txBuilder

	item, err := appointmentItem(next)
	if err != nil {
		return apperr.Wrap(err, "dynamo: encode appointment %s", next.ID)
	}
	if c.Anonymized {
		item[attrAnonymizedAt] = avS(last.History.At.UTC().Format(historyLayout))
	}
	b.add(roleAppointment, s.putAtVersion(item, prev.Version))
	for _, st := range c.Steps {
		if err := s.addHistory(&b, next.ID, st.History, st.State.Version); err != nil {
			return err
		}
		if st.Event.ID == "" {
			continue
		}
		if err := s.addOutbox(ctx, &b, st.Event, st.State); err != nil {
			return err
		}
	}

	old := map[cellID]bool{}
	for _, c := range prev.Cells {
		old[cellIDOf(prev.BranchID, c)] = true
	}
	keep := map[cellID]bool{}
	for _, c := range next.Cells {
		id := cellIDOf(next.BranchID, c)
		if keep[id] {
			return apperr.E(apperr.Validation, "appointment takes cell %s %s twice", c.ResourceID, c.Start.Format(time.RFC3339))
		}
		keep[id] = true
		if !old[id] {
			b.add(roleTakeCell, s.takeCell(next.BranchID, c, next.ID))
		}
	}
	released := map[cellID]bool{}
	for _, c := range prev.Cells {
		id := cellIDOf(prev.BranchID, c)
		if keep[id] || released[id] {
			continue
		}
		released[id] = true
		b.add(roleReleaseCell, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 s.table,
			Key:                       key(id.pk, id.sk),
			ConditionExpression:       aws.String(attrAppointmentID + " = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": avS(prev.ID)},
		}})
	}
	for _, it := range s.visitsChanges(prev, next) {
		b.add(roleVisits, it)
	}
	for _, l := range c.Links {
		b.add(roleLink, s.linkItem(l))
	}
	if claim != nil && !claim.Completed {
		if err := s.addCompletion(&b, claim, next); err != nil {
			return err
		}
	}
	if err := s.transact(ctx, &b, "update appointment "+next.ID); err != nil {
		return err
	}
	if claim != nil {
		claim.Completed = true
	}
	return nil
}

// putAtVersion writes an appointment item on condition that the stored one
// is still at version (optimistic concurrency: CONFLICT otherwise).
func (s *Store) putAtVersion(item map[string]types.AttributeValue, version int) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 s.table,
		Item:                      item,
		ConditionExpression:       aws.String("#v = :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": avN(int64(version))},
	}}
}

func (s *Store) addHistory(b *txBuilder, appointmentID string, h domain.HistoryEntry, version int) error {
	item, err := historyItem(appointmentID, h, version)
	if err != nil {
		return apperr.Wrap(err, "dynamo: encode history of %s", appointmentID)
	}
	b.add(roleHistory, types.TransactWriteItem{Put: &types.Put{
		TableName:           s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}})
	return nil
}

func (s *Store) takeCell(branchID string, c domain.Cell, appointmentID string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           s.table,
		Item:                cellItem(branchID, c, appointmentID),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}

// addCompletion adds the idempotency record's completion: the body is
// c.Render(a), rendered by the HTTP layer, so a replay sends exactly what the
// first answer sent. INTERNAL for a claim without Render: the store does not
// know the answer's shape, and completing later, outside the transaction,
// would lose the guarantee that a booking and its outcome commit together.
func (s *Store) addCompletion(b *txBuilder, c *idempotency.Claim, a domain.Appointment) error {
	if c.Render == nil {
		return apperr.E(apperr.Internal, "dynamo: idempotency claim %s carries no response renderer", c.Key)
	}
	body, err := c.Render(a)
	if err != nil {
		return apperr.Wrap(err, "dynamo: render response body")
	}
	b.add(roleIdempotency, types.TransactWriteItem{Update: s.completion(c, c.SuccessStatus, body).toTx(s.table)})
	return nil
}

// transact runs the transaction and maps a cancellation to the contract's
// error codes, checking the reasons item by item.
func (s *Store) transact(ctx context.Context, b *txBuilder, what string) error {
	if len(b.items) > MaxTransactItems {
		return apperr.E(apperr.Validation, "the change needs %d writes, more than the %d of one transaction", len(b.items), MaxTransactItems)
	}
	for attempt := 1; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: b.items})
		if err == nil {
			return nil
		}
		err = cancellationError(err, b.roles, b.create, what)
		if attempt == txConflictAttempts || !isTxConflict(err) {
			return err
		}
		// Every item keeps its condition, so running the same transaction
		// again is safe: a change that won meanwhile fails it properly.
		select {
		case <-time.After(time.Duration(attempt) * txConflictBackoff):
		case <-ctx.Done():
			return err
		}
	}
}

// Page decoding for the list queries.
func (s *Store) listAppointments(ctx context.Context, index, pkAttr, skAttr, pk string, limit int, cursor string) (app.Page[domain.Appointment], error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	start, err := decodeCursor(cursor, pkAttr, skAttr, pk)
	if err != nil {
		return app.Page[domain.Appointment]{}, err
	}
	page := app.Page[domain.Appointment]{Items: []domain.Appointment{}}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String(pkAttr + " = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(pk)},
		ExclusiveStartKey:         start,
		// One more than asked tells whether a next page exists, so that the
		// cursor is "" exactly when there is no more.
		Limit: aws.Int32(int32(limit + 1)),
	}
	var last map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return app.Page[domain.Appointment]{}, apperr.Wrap(err, "dynamo: list appointments")
		}
		for _, item := range out.Items {
			if len(page.Items) == limit {
				page.Cursor = encodeCursor(last, pkAttr, skAttr)
				return page, nil
			}
			a, err := appointmentFrom(item)
			if err != nil {
				return app.Page[domain.Appointment]{}, apperr.Wrap(err, "dynamo: decode appointment")
			}
			page.Items = append(page.Items, a)
			last = item
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		in.Limit = aws.Int32(int32(limit + 1 - len(page.Items)))
	}
}

// DefaultPageSize is the page size of a list when limit <= 0.
const DefaultPageSize = 50

// MaxPageSize bounds the page size of a list (larger limits are lowered).
const MaxPageSize = 1000

// ListAppointmentsByBranchDay lists a branch's appointments starting on a local
// date, ordered by start (GSI1, eventually consistent). VALIDATION_FAILED for
// a malformed cursor or one from another list.
func (s *Store) ListAppointmentsByBranchDay(ctx context.Context, branchID, date string, limit int, cursor string) (app.Page[domain.Appointment], error) {
	return s.listAppointments(ctx, indexGSI1, attrGSI1PK, attrGSI1SK, branchDayPK(branchID, date), limit, cursor)
}

// ListAppointmentsByPatient lists a patient's appointments ordered by start
// (GSI2, eventually consistent). VALIDATION_FAILED for a malformed cursor or
// one from another list.
func (s *Store) ListAppointmentsByPatient(ctx context.Context, patientID string, limit int, cursor string) (app.Page[domain.Appointment], error) {
	return s.listAppointments(ctx, indexGSI2, attrGSI2PK, attrGSI2SK, patientPK(patientID), limit, cursor)
}

// History returns an appointment's history, oldest first (empty if none).
func (s *Store) History(ctx context.Context, appointmentID string) ([]domain.HistoryEntry, error) {
	return queryList(ctx, s, historyFrom, beginsWith(apptPK(appointmentID), prefixHist), "history of "+appointmentID)
}
