package dynamo

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/domain"
)

// TestErasedProfileItemHoldsNoPersonalData: the stored item of an erased
// profile has only the keys, the format, the id, the version and the times
// (read raw, not through the decoder, which would hide leftover attributes).
func TestErasedProfileItemHoldsNoPersonalData(t *testing.T) {
	s, client := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	apply := func(c domain.PatientChange) {
		t.Helper()
		if _, err := s.UpdatePatient(ctx, "HN-1", func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
			return domain.ApplyPatientChange(cur, c, at)
		}); err != nil {
			t.Fatal(err)
		}
	}
	apply(domain.PatientChange{Kind: domain.PatientUpserted, PatientID: "HN-1", Version: 1, Profile: domain.PatientProfile{
		Name: "Somchai", Phone: "+66812345678", Email: "somchai@example.co.th", Locale: "th", LineUserID: "U4af4980629c1f2e3d4b5a69788990011",
		BirthDate: "1988-04-17", Dependents: []domain.Dependent{{PatientID: "HN-2", Relation: "child", ConsentAt: at}},
	}})
	apply(domain.PatientChange{Kind: domain.PatientMerged, PatientID: "HN-1", IntoID: "HN-9", Version: 2})
	apply(domain.PatientChange{Kind: domain.PatientErased, PatientID: "HN-1", Version: 3})

	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(profilePK("HN-1"), skProfile)})
	if err != nil || out.Item == nil {
		t.Fatalf("get: %v, %v", out, err)
	}
	var names []string
	for n := range out.Item {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{attrPK, attrSK, "entity", "erasedAt", "fv", "patientId", "updatedAt", "version"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("erased profile item attributes %v, want %v", names, want)
	}
}
