package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/notice"
)

// Patient communication items (see keys.go):
//
//	item                 PK                 SK
//	preferences          PATIENT#<id>       #PREFS
//	push device          PATIENT#<id>       DEVICE#<sha256(token), 32 hex>
//	device owner         DEVICE#<same hash> #OWNER  (patientId: who holds the token)
//	delivery (log)       APPT#<id>          NOTIF#<jobId>#<channel>
//
// A patient's preferences and devices share a partition, so GetProfile is
// one Query. A delivery lives in its appointment's partition: the delivery
// log is one Query, and the delivery's key — job and channel — is what makes
// a message go out at most once (ClaimDelivery is conditional on it).
const (
	skPrefs           = "#PREFS"
	prefixDevice      = "DEVICE#"
	prefixNotif       = "NOTIF#"
	entityPrefs       = "NOTIFY_PREFS"
	entityDevice      = "DEVICE"
	entityDeviceOwner = "DEVICE_OWNER"
	skDeviceOwner     = "#OWNER"
	entityDelivery    = "DELIVERY"
	timeLayout        = time.RFC3339Nano
)

func deviceSK(token string) string {
	sum := sha256.Sum256([]byte(token))
	return prefixDevice + hex.EncodeToString(sum[:16])
}

// deviceOwnerKey is the key of the item naming the one patient a token
// belongs to (keyed by the same hash as the device record, not the token).
func deviceOwnerKey(token string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: avS(deviceSK(token)), attrSK: avS(skDeviceOwner)}
}

func deliverySK(jobID string, ch notice.Channel) string {
	return prefixNotif + jobID + "#" + string(ch)
}

// GetProfile returns a patient's preferences (Set false if never chosen)
// and devices, oldest first, with one strongly consistent Query.
func (s *Store) GetProfile(ctx context.Context, patientID string) (notice.Profile, error) {
	p := notice.Profile{PatientID: patientID}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(patientPK(patientID))},
		ConsistentRead:            aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		switch str(item, attrEntity) {
		case entityPrefs:
			p.Set = true
			p.Preferences = notice.Preferences{SMS: boolAttr(item, "sms"), Email: boolAttr(item, "email"), Push: boolAttr(item, "push")}
			p.UpdatedAt = timeAttr(item, "updatedAt")
		case entityDevice:
			p.Devices = append(p.Devices, notice.Device{
				Token: str(item, "token"), Platform: str(item, "platform"), RegisteredAt: timeAttr(item, "registeredAt"),
			})
		}
		return nil
	})
	if err != nil {
		return notice.Profile{}, apperr.Wrap(err, "dynamo: get profile")
	}
	sort.SliceStable(p.Devices, func(i, k int) bool { return p.Devices[i].RegisteredAt.Before(p.Devices[k].RegisteredAt) })
	return p, nil
}

// PutPreferences replaces a patient's channel preferences.
func (s *Store) PutPreferences(ctx context.Context, patientID string, p notice.Preferences, at time.Time) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			attrPK: avS(patientPK(patientID)), attrSK: avS(skPrefs), attrEntity: avS(entityPrefs),
			"sms": avBool(p.SMS), "email": avBool(p.Email), "push": avBool(p.Push),
			"updatedAt": avS(at.UTC().Format(timeLayout)),
		},
	})
	if err != nil {
		return apperr.Wrap(err, "dynamo: put preferences")
	}
	return nil
}

// PutDevice registers (or re-registers) a push device and reports whether
// it is new for this patient. A token belongs to one patient at a time: its
// owner item (DEVICE#<hash> / #OWNER) is moved to patientID in the same
// transaction that writes the device and deletes the previous owner's device
// record, so a phone handed to another patient stops receiving the first
// patient's pushes. Beyond notice.MaxDevicesPerPatient the oldest devices
// are unregistered.
func (s *Store) PutDevice(ctx context.Context, patientID string, d notice.Device) (bool, error) {
	var created bool
	err := retryOwnerRace(ctx, func() error {
		var err error
		created, err = s.putDeviceOnce(ctx, patientID, d)
		return err
	})
	if err != nil || !created {
		return created, err
	}
	p, err := s.GetProfile(ctx, patientID)
	if err != nil {
		return true, err
	}
	for i := 0; i < len(p.Devices)-notice.MaxDevicesPerPatient; i++ {
		if err := s.RemoveDevice(ctx, patientID, p.Devices[i].Token); err != nil {
			return true, err
		}
	}
	return true, nil
}

// errOwnerMoved is a lost race for a token's owner item: read again, retry.
var errOwnerMoved = errors.New("dynamo: device owner changed concurrently")

// retryOwnerRace runs f again while it loses the race for the owner item.
func retryOwnerRace(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if !errors.Is(err, errOwnerMoved) || attempt >= 8 {
			if errors.Is(err, errOwnerMoved) {
				return apperr.E(apperr.Conflict, "the device is being registered concurrently; retry")
			}
			return err
		}
		select {
		case <-ctx.Done():
			return apperr.Wrap(ctx.Err(), "dynamo: put device")
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// putDeviceOnce reads the token's owner and, in one transaction, writes the
// device for patientID, moves the owner item (conditional on the owner
// read) and deletes the previous owner's device record.
func (s *Store) putDeviceOnce(ctx context.Context, patientID string, d notice.Device) (bool, error) {
	ownerKey := deviceOwnerKey(d.Token)
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: ownerKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, apperr.Wrap(err, "dynamo: get device owner")
	}
	prev := str(got.Item, "patientId")
	ownerCond := &types.Put{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			attrPK: ownerKey[attrPK], attrSK: ownerKey[attrSK], attrEntity: avS(entityDeviceOwner), "patientId": avS(patientID),
		},
	}
	if got.Item == nil {
		ownerCond.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		ownerCond.ConditionExpression = aws.String("patientId = :prev")
		ownerCond.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": avS(prev)}
	}
	device := &types.Put{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			attrPK: avS(patientPK(patientID)), attrSK: avS(deviceSK(d.Token)), attrEntity: avS(entityDevice),
			"token": avS(d.Token), "platform": avS(d.Platform), "registeredAt": avS(d.RegisteredAt.UTC().Format(timeLayout)),
		},
	}
	items := []types.TransactWriteItem{{Put: ownerCond}, {Put: device}}
	if prev != "" && prev != patientID {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: s.table,
			Key:       map[string]types.AttributeValue{attrPK: avS(patientPK(prev)), attrSK: avS(deviceSK(d.Token))},
		}})
	}
	created := prev != patientID
	if !created {
		// Owned already: new only if the record itself is missing (it was
		// capped away or written before owner items existed).
		rec, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: s.table, Key: map[string]types.AttributeValue{attrPK: device.Item[attrPK], attrSK: device.Item[attrSK]},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return false, apperr.Wrap(err, "dynamo: get device")
		}
		created = rec.Item == nil
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			for _, c := range reasonCodes(tce) {
				if c == reasonConditionalCheckFailed || c == reasonTransactionConflict {
					return false, errOwnerMoved
				}
			}
		}
		var inProgress *types.TransactionInProgressException
		if errors.As(err, &inProgress) {
			return false, errOwnerMoved
		}
		return false, apperr.Wrap(err, "dynamo: put device")
	}
	return created, nil
}

// RemoveDevice unregisters a device; removing an unknown one is not an
// error (DELETE is idempotent). The token's owner item goes with it only if
// it names patientID: a patient removing a token that has since moved to
// another patient does not take it from them.
func (s *Store) RemoveDevice(ctx context.Context, patientID, token string) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: s.table,
			Key:       map[string]types.AttributeValue{attrPK: avS(patientPK(patientID)), attrSK: avS(deviceSK(token))},
		}},
		{Delete: &types.Delete{
			TableName: s.table, Key: deviceOwnerKey(token),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR patientId = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(patientID)},
		}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		// Owned by another patient (or changing): this patient's record, if
		// any, is a leftover; delete it alone.
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: s.table,
			Key:       map[string]types.AttributeValue{attrPK: avS(patientPK(patientID)), attrSK: avS(deviceSK(token))},
		})
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: remove device")
	}
	return nil
}

// ClaimDelivery writes d unless its delivery (appointment, job, channel)
// exists and is final or still leased at now: a lapsed Sending claim is
// taken over, keeping its attempts and creation time. It returns whether d
// was written and the stored delivery.
func (s *Store) ClaimDelivery(ctx context.Context, d notice.Delivery, now time.Time) (bool, notice.Delivery, error) {
	names := map[string]string{"#st": "status"}
	values := map[string]types.AttributeValue{
		":st": avS(string(d.Status)), ":sending": avS(string(notice.StatusSending)),
		":now": avN(now.UnixMilli()), ":zero": avN(0),
		":job": avS(d.JobID), ":kind": avS(string(d.Kind)), ":ch": avS(string(d.Channel)),
		":created": avS(d.CreatedAt.UTC().Format(timeLayout)), ":updated": avS(d.UpdatedAt.UTC().Format(timeLayout)),
		":entity": avS(entityDelivery), ":reason": avS(d.Reason),
	}
	update := "SET #st = :st, jobId = :job, kind = :kind, channel = :ch, entity = :entity, reason = :reason, " +
		"createdAt = if_not_exists(createdAt, :created), updatedAt = :updated, attempts = if_not_exists(attempts, :zero)"
	if d.Status == notice.StatusSending {
		update += ", leaseUntil = :lease"
		values[":lease"] = avN(d.LeaseUntil.UnixMilli())
	} else {
		update += " REMOVE leaseUntil"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 deliveryKey(d),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR (#st = :sending AND leaseUntil < :now)"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, deliveryFrom(d.AppointmentID, ccf.Item), nil
	}
	if err != nil {
		return false, notice.Delivery{}, apperr.Wrap(err, "dynamo: claim delivery")
	}
	return true, deliveryFrom(d.AppointmentID, out.Attributes), nil
}

// FinishDelivery stores a claimed delivery's final state, conditional on it
// still being Sending (a final delivery is never overwritten).
func (s *Store) FinishDelivery(ctx context.Context, d notice.Delivery) error {
	return s.updateInFlight(ctx, d, "finish", "SET #st = :st, attempts = :att, providerMessageId = :pid, reason = :reason, updatedAt = :updated REMOVE leaseUntil",
		map[string]types.AttributeValue{":st": avS(string(d.Status)), ":pid": avS(d.ProviderMessageID)})
}

// ReleaseDelivery stores a claimed delivery's attempts and reason and ends
// its lease at d.LeaseUntil, still in flight (conditional on it being so),
// so that the job's next delivery takes it over.
func (s *Store) ReleaseDelivery(ctx context.Context, d notice.Delivery) error {
	return s.updateInFlight(ctx, d, "release", "SET attempts = :att, reason = :reason, updatedAt = :updated, leaseUntil = :lease",
		map[string]types.AttributeValue{":lease": avN(d.LeaseUntil.UnixMilli())})
}

// updateInFlight applies update to a delivery that is still Sending;
// CONFLICT if it is not. values add to the attempts, reason and updatedAt
// every update sets.
func (s *Store) updateInFlight(ctx context.Context, d notice.Delivery, what, update string, values map[string]types.AttributeValue) error {
	values[":att"] = avN(int64(d.Attempts))
	values[":reason"] = avS(d.Reason)
	values[":updated"] = avS(d.UpdatedAt.UTC().Format(timeLayout))
	values[":sending"] = avS(string(notice.StatusSending))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       deliveryKey(d),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#st = :sending"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return apperr.E(apperr.Conflict, "delivery %s/%s is no longer in flight", d.JobID, d.Channel)
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: %s delivery", what)
	}
	return nil
}

// ListDeliveries returns an appointment's delivery log, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, appointmentID string) ([]notice.Delivery, error) {
	out := []notice.Delivery{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:              s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": avS(apptPK(appointmentID)), ":p": avS(prefixNotif),
		},
	}, func(item map[string]types.AttributeValue) error {
		out = append(out, deliveryFrom(appointmentID, item))
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: list deliveries")
	}
	sort.SliceStable(out, func(i, k int) bool {
		if !out[i].CreatedAt.Equal(out[k].CreatedAt) {
			return out[i].CreatedAt.Before(out[k].CreatedAt)
		}
		return out[i].Channel < out[k].Channel
	})
	return out, nil
}

func deliveryKey(d notice.Delivery) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: avS(apptPK(d.AppointmentID)), attrSK: avS(deliverySK(d.JobID, d.Channel))}
}

func deliveryFrom(appointmentID string, item map[string]types.AttributeValue) notice.Delivery {
	d := notice.Delivery{
		AppointmentID: appointmentID, JobID: str(item, "jobId"), Kind: notice.Kind(str(item, "kind")),
		Channel: notice.Channel(str(item, "channel")), Status: notice.Status(str(item, "status")),
		Attempts: int(num(item, "attempts")), ProviderMessageID: str(item, "providerMessageId"),
		Reason: str(item, "reason"), CreatedAt: timeAttr(item, "createdAt"), UpdatedAt: timeAttr(item, "updatedAt"),
	}
	if ms := num(item, "leaseUntil"); ms > 0 {
		d.LeaseUntil = time.UnixMilli(ms).UTC()
	}
	return d
}

func avBool(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

func boolAttr(item map[string]types.AttributeValue, name string) bool {
	b, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}

func timeAttr(item map[string]types.AttributeValue, name string) time.Time {
	t, err := time.Parse(timeLayout, str(item, name))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
