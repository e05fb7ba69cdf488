package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/domain"
)

// Stored form of a patient profile (see item.go for the format version).
// Everything but patientId, version, mergedInto and the times is personal
// data; an erased profile (erasedAt set) is written without any of it.

func patientItem(p domain.PatientProfile) item {
	it := newItem(12)
	it.str("patientId", p.PatientID)
	it.num("version", p.Version)
	it.optStr("name", p.Name)
	it.optStr("phone", p.Phone)
	it.optStr("email", p.Email)
	it.optStr("locale", p.Locale)
	it.optStr("lineUserId", p.LineUserID)
	it.optStr("birthDate", p.BirthDate)
	it.optList("dependents", len(p.Dependents), func(i int) types.AttributeValue {
		d := newItem(3)
		d.str("patientId", p.Dependents[i].PatientID)
		d.str("relation", p.Dependents[i].Relation)
		d.time("consentAt", p.Dependents[i].ConsentAt)
		return avM(d)
	})
	it.optStr("mergedInto", p.MergedInto)
	it.optTime("erasedAt", p.ErasedAt)
	it.time("updatedAt", p.UpdatedAt)
	return it
}

func patientFrom(av map[string]types.AttributeValue) (domain.PatientProfile, error) {
	r := newReader(av)
	r.checkFormat()
	p := domain.PatientProfile{
		PatientID:  r.str("patientId"),
		Version:    r.num("version"),
		Name:       r.str("name"),
		Phone:      r.str("phone"),
		Email:      r.str("email"),
		Locale:     r.str("locale"),
		LineUserID: r.str("lineUserId"),
		BirthDate:  r.str("birthDate"),
		MergedInto: r.str("mergedInto"),
		ErasedAt:   r.time("erasedAt"),
		UpdatedAt:  r.time("updatedAt"),
	}
	for _, d := range r.maps("dependents") {
		p.Dependents = append(p.Dependents, domain.Dependent{
			PatientID: d.str("patientId"),
			Relation:  d.str("relation"),
			ConsentAt: d.time("consentAt"),
		})
	}
	return p, r.err()
}
