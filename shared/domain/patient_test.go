package domain

import (
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

func upsert(id string, v int64, name string) PatientChange {
	return PatientChange{Kind: PatientUpserted, PatientID: id, Version: v, Profile: PatientProfile{
		Name: name, Phone: "+66812345678", Email: "a@example.co.th", Locale: "th",
		Dependents: []Dependent{{PatientID: "HN-kid", Relation: "child"}},
	}}
}

// applyAll applies the changes in order, starting from no profile.
func applyAll(t *testing.T, cs ...PatientChange) *PatientProfile {
	t.Helper()
	var cur *PatientProfile
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cs {
		next, _, err := ApplyPatientChange(cur, c, now)
		if err != nil {
			t.Fatalf("%s v%d: %v", c.Kind, c.Version, err)
		}
		cur = &next
	}
	return cur
}

func TestPatientProfileNeverGoesBack(t *testing.T) {
	v1, v2, v3 := upsert("HN-1", 1, "one"), upsert("HN-1", 2, "two"), upsert("HN-1", 3, "three")
	orders := [][]PatientChange{{v1, v2, v3}, {v3, v2, v1}, {v2, v3, v1}, {v3, v3, v1, v2, v3}}
	for _, o := range orders {
		if p := applyAll(t, o...); p.Name != "three" || p.Version != 3 {
			t.Errorf("order %v: name %q version %d, want three/3", o, p.Name, p.Version)
		}
	}
	cur := applyAll(t, v2)
	if _, changed, _ := ApplyPatientChange(cur, v2, time.Now()); changed {
		t.Error("a duplicate changed the profile")
	}
}

func TestPatientMergeAndErasure(t *testing.T) {
	merge := PatientChange{Kind: PatientMerged, PatientID: "HN-1", IntoID: "HN-9", Version: 4}
	p := applyAll(t, upsert("HN-1", 3, "three"), merge, upsert("HN-1", 2, "late"))
	if p.MergedInto != "HN-9" || p.Name != "three" {
		t.Fatalf("after merge: %+v", p)
	}
	// A merge for an unseen patient is a stub that a higher upsert fills.
	if p := applyAll(t, merge, upsert("HN-1", 5, "five")); p.MergedInto != "HN-9" || p.Name != "five" {
		t.Fatalf("stub then upsert: %+v", p)
	}
	erase := PatientChange{Kind: PatientErased, PatientID: "HN-1", Version: 6}
	p = applyAll(t, upsert("HN-1", 5, "five"), erase, upsert("HN-1", 5, "five"), upsert("HN-1", 1, "one"))
	if !p.Erased() || p.Name != "" || p.Phone != "" || p.Email != "" || p.Dependents != nil || p.Version != 6 {
		t.Fatalf("after erasure: %+v", p)
	}
	if _, _, err := ApplyPatientChange(p, upsert("HN-1", 7, "back"), time.Now()); !apperr.IsPermanent(err) {
		t.Fatalf("a higher version after erasure: %v, want a permanent error", err)
	}
}

func TestCheckPatientEvent(t *testing.T) {
	self := upsert("HN-1", 1, "x")
	self.Profile.Dependents = []Dependent{{PatientID: "HN-1", Relation: "child"}}
	twice := upsert("HN-1", 1, "x")
	twice.Profile.Dependents = append(twice.Profile.Dependents, twice.Profile.Dependents[0])
	for _, c := range []PatientChange{self, twice, {Kind: PatientMerged, PatientID: "HN-1", IntoID: "HN-1", Version: 1}} {
		if err := CheckPatientEvent(c); !apperr.Is(err, apperr.Validation) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := CheckPatientEvent(upsert("HN-1", 1, "x")); err != nil {
		t.Error(err)
	}
}
