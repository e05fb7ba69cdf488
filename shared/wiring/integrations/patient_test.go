package integrations_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

func upsertBody(eventID string, version int, name, dependents string) string {
	return fmt.Sprintf(`{"schemaVersion":1,"eventId":%q,"type":"patient.upserted","occurredAt":"2026-12-01T02:00:00Z","version":%d,"patientId":"HN-1","name":%q,"phone":"+66812345678","email":"somchai@example.co.th","locale":"th","dependents":[%s]}`,
		eventID, version, name, dependents)
}

// TestPatientConsumerOrderAndDuplicates: on DynamoDB Local, versions 1..3 of
// a profile delivered newest first, with a duplicate, end at version 3; a
// duplicate eventId is acknowledged; a patient listed as their own
// dependent is dead-lettered with reason permanent; a merge is recorded; an
// erasure empties the profile and a late upsert does not bring the data
// back.
func TestPatientConsumerOrderAndDuplicates(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	dl := &deadLetters{}
	c := integrations.NewPatientConsumer(store, dl, func() time.Time { return now })
	ctx := context.Background()

	v1, v2, v3 := upsertBody("pe-1", 1, "one", ""), upsertBody("pe-2", 2, "two", ""),
		upsertBody("pe-3", 3, "three", `{"patientId":"HN-2","relation":"child","consentAt":"2026-11-30T08:00:00+07:00"}`)
	for _, batch := range [][]string{{v3}, {v1, v2, v3}, {v2}} {
		resp, err := c.Handle(ctx, sqsEvent(batch...))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch: %+v, %v", resp, err)
		}
	}
	p, err := store.GetPatient(ctx, "HN-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.Name != "three" || len(p.Dependents) != 1 || p.Dependents[0].PatientID != "HN-2" {
		t.Fatalf("after out-of-order delivery: %+v", p)
	}

	self := upsertBody("pe-4", 4, "self", `{"patientId":"HN-1","relation":"child","consentAt":"2026-11-30T08:00:00+07:00"}`)
	merge := `{"schemaVersion":1,"eventId":"pe-5","type":"patient.merged","occurredAt":"2026-12-02T02:00:00Z","version":5,"fromPatientId":"HN-1","intoPatientId":"HN-9"}`
	resp, err := c.Handle(ctx, sqsEvent(self, merge))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch: %+v, %v", resp, err)
	}
	if r := dl.reasons(); len(r) != 1 || r[0] != string(consumer.ReasonPermanent) {
		t.Fatalf("dead letters %v, want one permanent", r)
	}
	if p, _ := store.GetPatient(ctx, "HN-1"); p.MergedInto != "HN-9" || p.Version != 5 || p.Name != "three" {
		t.Fatalf("after the merge: %+v", p)
	}

	erase := `{"schemaVersion":1,"eventId":"pe-6","type":"patient.erased","occurredAt":"2026-12-03T02:00:00Z","version":6,"patientId":"HN-1"}`
	resp, err = c.Handle(ctx, sqsEvent(erase, upsertBody("pe-7", 4, "late", "")))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch: %+v, %v", resp, err)
	}
	p, err = store.GetPatient(ctx, "HN-1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Erased() || p.Name != "" || p.Phone != "" || p.Email != "" || p.Dependents != nil || p.Version != 6 {
		t.Fatalf("after erasure and a late upsert: %+v", p)
	}
	if _, err := store.GetPatient(ctx, "HN-404"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown patient: %v", err)
	}
}
