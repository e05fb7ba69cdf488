package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Tests that need no DynamoDB.

func TestKeys(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, bangkok)
	sk := cellSK("res_a", start)
	if sk != "res_a#001796090400" {
		t.Fatalf("cell SK %s", sk)
	}
	k, good := parseCellSK(sk)
	if !good || k != (domain.CellKey{ResourceID: "res_a", Start: start.Unix()}) {
		t.Fatalf("parse %s: %v %v", sk, k, good)
	}
	for _, bad := range []string{"", "#1", "res_a", "res_a#x"} {
		if _, good := parseCellSK(bad); good {
			t.Errorf("parseCellSK(%q) accepted", bad)
		}
	}
	a := domain.Appointment{ID: "apt_1", Start: time.Date(2026, 12, 1, 0, 30, 0, 0, bangkok)}
	if d := apptLocalDate(a); d != "2026-12-01" {
		t.Fatalf("local date %s", d)
	}
	if sk := apptStartSK(a); sk != "2026-11-30T17:30:00Z#apt_1" {
		t.Fatalf("start SK %s", sk)
	}
	// History keys sort in time order whatever the fraction of a second.
	h1 := historySK(domain.HistoryEntry{At: time.Date(2026, 1, 1, 0, 0, 0, 100000000, time.UTC)}, 1)
	h2 := historySK(domain.HistoryEntry{At: time.Date(2026, 1, 1, 0, 0, 0, 120000000, time.UTC)}, 2)
	if !(h1 < h2) || h1 != "HIST#2026-01-01T00:00:00.100000000Z#000001" {
		t.Fatalf("history keys %s %s", h1, h2)
	}
}

func TestItemRoundTrip(t *testing.T) {
	svc := domain.Service{ID: "svc_1", Name: `quote " and \ back`, Requires: []domain.Requirement{},
		Preparation: domain.Preparation{Instructions: map[string]string{"th": "ก", "en": "a"}},
		CreatedAt:   time.Date(2026, 1, 2, 3, 4, 5, 6, bangkok)}
	item := serviceItem(svc)
	if _, isL := item["requires"].(*types.AttributeValueMemberL); !isL {
		t.Fatalf("requires stored as %T", item["requires"])
	}
	item[attrPK] = avS("x")
	back, err := serviceFrom(item)
	if err != nil {
		t.Fatal(err)
	}
	sameDomain(t, "service", back, svc)
}

func TestReasonCodes(t *testing.T) {
	fromField := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")},
	}}
	fromMessage := &types.TransactionCanceledException{Message: aws.String(
		"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")}
	for _, e := range []*types.TransactionCanceledException{fromField, fromMessage} {
		if got := reasonCodes(e); len(got) != 2 || got[0] != "None" || got[1] != "ConditionalCheckFailed" {
			t.Fatalf("reasons %q", got)
		}
	}
	roles := []txRole{roleAppointment, roleHistory, roleTakeCell, roleReleaseCell, roleIdempotency, roleOutbox}
	reasons := func(codes ...string) error {
		e := &types.TransactionCanceledException{}
		for _, c := range codes {
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return e
	}
	for _, tc := range []struct {
		err  error
		want apperr.Code
	}{
		{reasons("None", "None", "ConditionalCheckFailed", "None", "None", "None"), apperr.SlotUnavailable},
		{reasons("ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None", "None", "None"), apperr.Conflict},
		{reasons("None", "None", "None", "None", "ConditionalCheckFailed", "None"), apperr.Conflict},
		{reasons("None", "None", "None", "ConditionalCheckFailed", "None", "None"), apperr.Conflict},
		// Transient reasons are neither a taken slot nor a stale read: 503, never 409.
		{reasons("None", "TransactionConflict", "None", "None", "None", "None"), apperr.Unavailable},
		{reasons("None", "None", "ThrottlingError", "None", "None", "None"), apperr.Unavailable},
		{reasons("None", "None", "ProvisionedThroughputExceeded", "TransactionConflict", "None", "None"), apperr.Unavailable},
		// A failed condition says more than a conflict elsewhere.
		{reasons("None", "TransactionConflict", "ConditionalCheckFailed", "None", "None", "None"), apperr.SlotUnavailable},
		{reasons("None", "None", "ValidationError", "TransactionConflict", "None", "None"), apperr.Internal},
		{reasons("None", "None", "None", "None", "None", "ConditionalCheckFailed"), apperr.Conflict},
		{reasons("None", "None", "ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed"), apperr.SlotUnavailable},
		{reasons("None", "None"), apperr.Internal},
		{&types.TransactionInProgressException{}, apperr.Unavailable},
		{&types.InternalServerError{}, apperr.Internal},
		// What the store's client returns for a server error after the SDK's retries.
		{unavailable(&types.InternalServerError{}), apperr.Unavailable},
		{unavailable(&types.ProvisionedThroughputExceededException{}), apperr.Unavailable},
	} {
		if got := apperr.CodeOf(cancellationError(tc.err, roles, false, "update x")); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestDecodeCursorUnit(t *testing.T) {
	item := map[string]types.AttributeValue{
		attrPK: avS("APPT#apt_1"), attrSK: avS(skMeta), attrGSI2PK: avS("PATIENT#p"), attrGSI2SK: avS("2026-12-01T02:00:00Z#apt_1"),
	}
	c := encodeCursor(item, attrGSI2PK, attrGSI2SK)
	if _, err := decodeCursor(c, attrGSI2PK, attrGSI2SK, "PATIENT#p"); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"PATIENT#q", "PATIENT#"} {
		if _, err := decodeCursor(c, attrGSI2PK, attrGSI2SK, pk); apperr.CodeOf(err) != apperr.Validation {
			t.Fatalf("cursor accepted for %s", pk)
		}
	}
	if _, err := decodeCursor(c, attrGSI1PK, attrGSI1SK, "PATIENT#p"); apperr.CodeOf(err) != apperr.Validation {
		t.Fatal("GSI2 cursor accepted on GSI1")
	}
}
