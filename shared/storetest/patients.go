package storetest

import (
	"context"
	"slices"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// PatientProfiles: a profile is NOT_FOUND until written, reads back whole
// (dependents and their consent times included), a decision not to write
// leaves it alone, an update decided on a version that a concurrent writer
// replaced is decided again on the new one (nothing is lost), and an
// erasure leaves no personal field.
func PatientProfiles(t T, s Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	wantCode(t, func() error { _, err := s.GetPatient(ctx, "HN-1"); return err }(), apperr.NotFound)

	up := func(v int64, name string) domain.PatientChange {
		return domain.PatientChange{Kind: domain.PatientUpserted, PatientID: "HN-1", Version: v, Profile: domain.PatientProfile{
			Name: name, Phone: "+66812345678", Email: "somchai@example.co.th", Locale: "th", LineUserID: "U4af4980629c1f2e3d4b5a69788990011",
			BirthDate: "1988-04-17", Dependents: []domain.Dependent{{PatientID: "HN-2", Relation: "child", ConsentAt: at.Add(-time.Hour)}},
		}}
	}
	apply := func(c domain.PatientChange) (domain.PatientProfile, error) {
		return s.UpdatePatient(ctx, c.PatientID, func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
			return domain.ApplyPatientChange(cur, c, at)
		})
	}
	_, err := apply(up(2, "Somchai"))
	must(t, err)
	p, err := s.GetPatient(ctx, "HN-1")
	must(t, err)
	if p.PatientID != "HN-1" || p.Version != 2 || p.Name != "Somchai" || p.Phone != "+66812345678" || p.Email != "somchai@example.co.th" ||
		p.Locale != "th" || p.LineUserID != "U4af4980629c1f2e3d4b5a69788990011" || p.BirthDate != "1988-04-17" || !p.UpdatedAt.Equal(at) ||
		len(p.Dependents) != 1 || p.Dependents[0].PatientID != "HN-2" || p.Dependents[0].Relation != "child" || !p.Dependents[0].ConsentAt.Equal(at.Add(-time.Hour)) {
		t.Fatalf("read back %+v", p)
	}

	got, err := apply(up(1, "older")) // not newer: no write, the stored profile is returned
	must(t, err)
	if got.Name != "Somchai" || got.Version != 2 {
		t.Fatalf("an older event returned %+v", got)
	}

	var seen []int64
	_, err = s.UpdatePatient(ctx, "HN-1", func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
		seen = append(seen, cur.Version)
		if len(seen) == 1 { // a concurrent event of the patient wins meanwhile
			_, err := apply(up(3, "concurrent"))
			must(t, err)
		}
		return domain.ApplyPatientChange(cur, domain.PatientChange{Kind: domain.PatientMerged, PatientID: "HN-1", IntoID: "HN-9", Version: 4}, at)
	})
	must(t, err)
	if !slices.Equal(seen, []int64{2, 3}) {
		t.Fatalf("the closure saw versions %v, want [2 3]", seen)
	}
	p, err = s.GetPatient(ctx, "HN-1")
	must(t, err)
	if p.Version != 4 || p.Name != "concurrent" || p.MergedInto != "HN-9" {
		t.Fatalf("after a concurrent upsert and a merge: %+v (a change was lost)", p)
	}

	_, err = apply(domain.PatientChange{Kind: domain.PatientErased, PatientID: "HN-1", Version: 5})
	must(t, err)
	p, err = s.GetPatient(ctx, "HN-1")
	must(t, err)
	if p.Version != 5 || p.ErasedAt.IsZero() || p.Name != "" || p.Phone != "" || p.Email != "" || p.LineUserID != "" || p.BirthDate != "" || p.Dependents != nil {
		t.Fatalf("after erasure: %+v", p)
	}
}
