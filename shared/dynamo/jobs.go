package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// The scheduled jobs' storage (shared/jobs declares the ports): job
// watermarks, reminder key items, the expiry index and anonymization. See
// keys.go for the items.
const (
	// attrUntil is a watermark's position (UTC, historyLayout, so that string
	// order is time order and the update condition can compare strings).
	attrUntil = "until"
	// attrAnonymizedAt marks an appointment item whose personal data the
	// retention job removed (UTC, historyLayout). It is an item attribute,
	// not part of the appointment's public JSON, so the API's schema is
	// unchanged; a later change of the appointment rewrites the item without
	// it, but the anonymization's history entry stays.
	attrAnonymizedAt = "anonymizedAt"
	// Reminder key item attributes, for operators.
	attrLeadMinutes = "leadMinutes"
	attrStart       = "start"
	attrEventID     = "eventId"
	// reminderKeyTTL keeps a reminder key item a week past the start; the job
	// never looks at a visit that has started, so its deletion is harmless.
	reminderKeyTTL = 7 * 24 * time.Hour
)

// GetWatermark returns how far the job has handled its work (strongly
// consistent read); found is false before the job's first advance.
func (s *Store) GetWatermark(ctx context.Context, job string) (until time.Time, found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(jobPK(job), skWatermark), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return time.Time{}, false, apperr.Wrap(err, "dynamo: get watermark of %s", job)
	}
	if out.Item == nil {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, str(out.Item, attrUntil))
	if err != nil {
		return time.Time{}, false, apperr.Wrap(err, "dynamo: decode watermark of %s", job)
	}
	return t, true, nil
}

// AdvanceWatermark moves the job's watermark to `to` if that is later than
// the stored one (or there is none); otherwise it leaves it alone and
// returns nil. The move is one conditional update, so concurrent runs never
// move the watermark backwards.
func (s *Store) AdvanceWatermark(ctx context.Context, job string, to time.Time) error {
	v := to.UTC().Format(historyLayout)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                s.table,
		Key:                      key(jobPK(job), skWatermark),
		UpdateExpression:         aws.String("SET #until = :to, #entity = :job"),
		ConditionExpression:      aws.String("attribute_not_exists(PK) OR #until < :to"),
		ExpressionAttributeNames: map[string]string{"#until": attrUntil, "#entity": attrEntity},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": avS(v), ":job": avS(entityJob),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return apperr.Wrap(err, "dynamo: advance watermark of %s", job)
	}
	return nil
}

// AppointmentsStarting returns a branch's appointments on a local date (its
// branch-day partition in GSI1) whose start is in [from, to], ordered by
// start, every page followed. The index is eventually consistent: a change
// of the last moment may not be visible yet.
func (s *Store) AppointmentsStarting(ctx context.Context, branchID, date string, from, to time.Time) ([]domain.Appointment, error) {
	out := []domain.Appointment{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String(attrGSI1PK + " = :pk AND " + attrGSI1SK + " BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": avS(branchDayPK(branchID, date)),
			":lo": avS(from.UTC().Format(startLayout)),
			// "<start>#<id>" < "<start>$": every id of the last second is in.
			":hi": avS(to.UTC().Format(startLayout) + "$"),
		},
	}, func(item map[string]types.AttributeValue) error {
		a, err := appointmentFrom(item)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: list appointments of %s on %s", branchID, date)
	}
	return out, nil
}

// RecordReminder implements jobs.ReminderStore.RecordReminder: the one
// optimistic-concurrency loop (app.RetryConcurrent) around a strongly
// consistent read, due and recordReminder.
func (s *Store) RecordReminder(ctx context.Context, appointmentID string, due func(domain.Appointment) (domain.ReminderDue, domain.Event, bool)) (recorded bool, err error) {
	err = app.RetryConcurrent(ctx, func() error {
		a, err := s.GetAppointment(ctx, appointmentID)
		if err != nil {
			return err
		}
		r, ev, ok := due(a)
		if !ok {
			recorded = false
			return nil
		}
		recorded, err = s.recordReminder(ctx, r, ev)
		return err
	})
	return recorded, err
}

// recordReminder records one due reminder in one TransactWriteItems: the
// reminder key item of (r.Appointment.ID, r.LeadMinutes, r.Appointment.Start)
// with attribute_not_exists, a condition check that the appointment is still
// booked at r.Appointment.Version, and the outbox record of ev (type
// appointment.reminder_due, data r; ev.Data is ignored, ev.Subject must be
// the appointment id) with the traceparent of the span in ctx.
//
// recorded is false, with no error, when the key item exists: the reminder
// was recorded before (by an earlier or a concurrent run). CONFLICT when the
// appointment changed since it was read, or the transaction lost to a
// concurrent one (re-read and try again).
func (s *Store) recordReminder(ctx context.Context, r domain.ReminderDue, ev domain.Event) (recorded bool, err error) {
	a := r.Appointment
	if ev.Subject != a.ID || ev.Type != domain.EventAppointmentReminderDue {
		return false, apperr.Wrap(fmt.Errorf("event %s (%s) about %q", ev.ID, ev.Type, ev.Subject),
			"dynamo: record reminder of %s: not its appointment.reminder_due event", a.ID)
	}
	ev.Data = r
	outbox, err := eventOutboxItem(ctx, ev)
	if errors.Is(err, events.ErrTooLarge) {
		return false, err // LIMIT_EXCEEDED, refused before the transaction
	}
	if err != nil {
		return false, apperr.Wrap(err, "dynamo: encode outbox record of reminder of %s", a.ID)
	}
	reminder := map[string]types.AttributeValue{
		attrPK:          avS(apptPK(a.ID)),
		attrSK:          avS(reminderSK(r.LeadMinutes, a.Start)),
		attrEntity:      avS(entityReminder),
		attrLeadMinutes: avN(int64(r.LeadMinutes)),
		attrStart:       avS(a.Start.UTC().Format(startLayout)),
		attrEventID:     avS(ev.ID),
		attrTTL:         avN(a.Start.Add(reminderKeyTTL).Unix()),
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: s.table, Item: reminder, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
		{ConditionCheck: &types.ConditionCheck{
			TableName:                s.table,
			Key:                      key(apptPK(a.ID), skMeta),
			ConditionExpression:      aws.String("#v = :v AND #st = :booked"),
			ExpressionAttributeNames: map[string]string{"#v": "version", "#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v": avN(int64(a.Version)), ":booked": avS(string(domain.StatusBooked)),
			},
		}},
		{Put: &types.Put{
			TableName: s.table, Item: outbox, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
	}})
	if err == nil {
		return true, nil
	}
	var tce *types.TransactionCanceledException
	var inProgress *types.TransactionInProgressException
	switch {
	case errors.As(err, &tce):
		codes := reasonCodes(tce)
		if len(codes) != 3 {
			break
		}
		switch {
		case codes[0] == reasonConditionalCheckFailed:
			return false, nil
		case codes[1] == reasonConditionalCheckFailed:
			return false, apperr.E(apperr.Conflict, "appointment %s changed since it was read", a.ID)
		case codes[2] == reasonConditionalCheckFailed:
			return false, apperr.E(apperr.Conflict, "event id %s is already used", ev.ID)
		case slices.Contains(codes, reasonTransactionConflict):
			return false, &apperr.Error{Code: apperr.Conflict, Message: "a concurrent transaction won; retry", Err: err}
		}
	case errors.As(err, &inProgress):
		return false, &apperr.Error{Code: apperr.Conflict, Message: "a concurrent transaction is in progress; retry", Err: err}
	}
	return false, apperr.Wrap(err, "dynamo: record reminder of %s", a.ID)
}

// RemoveHistoryReasons removes the free-text reason of every history entry
// of an appointment that has one and that keep rejects, and returns how many
// it changed. Each entry is one conditional update (the entry must exist), so
// the call can be repeated.
func (s *Store) RemoveHistoryReasons(ctx context.Context, appointmentID string, keep func(domain.HistoryEntry) bool) (int, error) {
	var sks []string
	err := s.queryAll(ctx, beginsWith(apptPK(appointmentID), prefixHist), func(item map[string]types.AttributeValue) error {
		h, err := historyFrom(item)
		if err != nil {
			return err
		}
		if h.Reason != "" && !keep(h) {
			sks = append(sks, str(item, attrSK))
		}
		return nil
	})
	if err != nil {
		return 0, apperr.Wrap(err, "dynamo: read history of %s", appointmentID)
	}
	for i, sk := range sks {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                s.table,
			Key:                      key(apptPK(appointmentID), sk),
			UpdateExpression:         aws.String("REMOVE #reason"),
			ConditionExpression:      aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames: map[string]string{"#reason": "reason"},
		})
		if err != nil && !isConditionFailed(err) {
			return i, apperr.Wrap(err, "dynamo: remove history reason of %s", appointmentID)
		}
	}
	return len(sks), nil
}
