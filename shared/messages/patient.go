package messages

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// The types of a PatientEvent.
const (
	TypePatientUpserted = string(domain.PatientUpserted)
	TypePatientMerged   = string(domain.PatientMerged)
	TypePatientErased   = string(domain.PatientErased)
)

// Patterns of the patient contract beyond the shared ones.
const (
	patLineUserID = `^U[0-9a-f]{32}$`
	patBirthDate  = `^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`
)

var (
	reLineUserID = regexp.MustCompile(patLineUserID)
	reBirthDate  = regexp.MustCompile(patBirthDate)
)

// PatientEvent is an event of the Patient Service
// (docs/contracts/patient-event.v1.schema.json): patient.upserted,
// patient.merged or patient.erased. Each type takes exactly its own members;
// the others are absent (zero).
type PatientEvent struct {
	SchemaVersion int       `json:"schemaVersion"` // 1
	EventID       string    `json:"eventId"`       // the dedupe key
	Type          string    `json:"type"`
	OccurredAt    time.Time `json:"occurredAt"`
	// Version is the per-patient counter (of FromPatientID for a merge).
	Version int64 `json:"version"`
	// PatientID is the patient of an upsert or an erasure.
	PatientID string `json:"patientId,omitempty"`
	// The profile of an upsert; personal data.
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	Locale     string `json:"locale,omitempty"`
	LineUserID string `json:"lineUserId,omitempty"`
	BirthDate  string `json:"birthDate,omitempty"`
	// Dependents is non-nil (possibly empty) on an upsert, nil otherwise.
	Dependents []PatientDependent `json:"dependents,omitempty"`
	// The two patients of a merge.
	FromPatientID string `json:"fromPatientId,omitempty"`
	IntoPatientID string `json:"intoPatientId,omitempty"`
}

// PatientDependent is one dependent of a patient.upserted.
type PatientDependent struct {
	PatientID string    `json:"patientId"`
	Relation  string    `json:"relation"`
	ConsentAt time.Time `json:"consentAt"`
}

var _ Message = PatientEvent{}

// DecodePatientEvent is Decode for a Patient Service message.
func DecodePatientEvent(body []byte) (PatientEvent, error) { return Decode[PatientEvent](body) }

// DedupeKey returns the producer's eventId.
func (m PatientEvent) DedupeKey() string { return m.EventID }

// MarshalJSON writes an upsert's dependents even when there are none (the
// member is required on an upsert and absent on the other types).
func (m PatientEvent) MarshalJSON() ([]byte, error) {
	type plain PatientEvent
	if m.Type == TypePatientUpserted && m.Dependents == nil {
		m.Dependents = []PatientDependent{}
	}
	if m.Dependents == nil {
		return json.Marshal(plain(m))
	}
	return json.Marshal(struct {
		plain
		Dependents []PatientDependent `json:"dependents"`
	}{plain(m), m.Dependents})
}

// Validate checks the schema's rules: schemaVersion 1 (another positive
// version wraps apperr.ErrUnknownVersion), ids 1..128 characters of
// [A-Za-z0-9_.:/-], a known type with exactly its members, occurredAt set,
// version 1..2^53−1; for an upsert a name of 1..200 characters, an E.164
// phone, an ASCII email of at most 254 characters, locale th or en, an
// optional LINE user id and birth date, and at most domain.MaxDependents
// dependents each with an id, a relation and consentAt.
func (m PatientEvent) Validate() error {
	if err := checkVersion(m.SchemaVersion); err != nil {
		return err
	}
	var v validator
	v.id("eventId", m.EventID, true)
	v.instant("occurredAt", m.OccurredAt)
	if m.Version < 1 || m.Version > maxSafeInteger {
		v.fail("version: is required, 1..2^53-1")
	}
	upsertOnly := m.Name != "" || m.Phone != "" || m.Email != "" || m.Locale != "" || m.LineUserID != "" || m.BirthDate != "" || m.Dependents != nil
	mergeOnly := m.FromPatientID != "" || m.IntoPatientID != ""
	switch m.Type {
	case TypePatientUpserted:
		if mergeOnly {
			v.fail("fromPatientId, intoPatientId: only in patient.merged")
		}
		v.id("patientId", m.PatientID, true)
		v.text("name", m.Name, 200, true)
		switch {
		case m.Phone == "":
			v.fail("phone: is required")
		case !rePhone.MatchString(m.Phone):
			v.fail("phone: must be E.164, such as +66812345678")
		}
		switch {
		case m.Email == "":
			v.fail("email: is required")
		case len(m.Email) > 254 || !reEmail.MatchString(m.Email):
			v.fail("email: must be an ASCII email address of at most 254 characters")
		}
		if m.Locale != "th" && m.Locale != "en" {
			v.fail("locale: must be th or en")
		}
		if m.LineUserID != "" && !reLineUserID.MatchString(m.LineUserID) {
			v.fail("lineUserId: must be U followed by 32 lower-case hex digits")
		}
		if m.BirthDate != "" {
			if !reBirthDate.MatchString(m.BirthDate) {
				v.fail("birthDate: must be a date YYYY-MM-DD in the years 1900..2099")
			} else if _, err := time.Parse("2006-01-02", m.BirthDate); err != nil {
				v.fail("birthDate: must be a date that exists")
			}
		}
		if m.Dependents == nil {
			v.fail("dependents: is required (an empty array if there are none)")
		}
		if len(m.Dependents) > domain.MaxDependents {
			v.fail("dependents: at most %d", domain.MaxDependents)
		}
		for i, d := range m.Dependents {
			f := func(name string) string { return "dependents[" + itoa(i) + "]." + name }
			v.id(f("patientId"), d.PatientID, true)
			if !validRelation(d.Relation) {
				v.fail("%s: must be one of child, parent, spouse, other", f("relation"))
			}
			v.instant(f("consentAt"), d.ConsentAt)
		}
	case TypePatientMerged:
		if upsertOnly || m.PatientID != "" {
			v.fail("patient.merged: takes only fromPatientId and intoPatientId besides the envelope")
		}
		v.id("fromPatientId", m.FromPatientID, true)
		v.id("intoPatientId", m.IntoPatientID, true)
	case TypePatientErased:
		if upsertOnly || mergeOnly {
			v.fail("patient.erased: takes only patientId besides the envelope")
		}
		v.id("patientId", m.PatientID, true)
	default:
		v.fail("type: must be one of %s, %s, %s", TypePatientUpserted, TypePatientMerged, TypePatientErased)
	}
	return v.err
}

func validRelation(r string) bool {
	for _, x := range domain.Relations() {
		if r == x {
			return true
		}
	}
	return false
}

// Change returns the message as a domain change for
// domain.ApplyPatientChange (the patient of a merge is FromPatientID).
func (m PatientEvent) Change() domain.PatientChange {
	c := domain.PatientChange{
		Kind:       domain.PatientEventKind(m.Type),
		PatientID:  m.PatientID,
		Version:    m.Version,
		OccurredAt: m.OccurredAt,
	}
	switch m.Type {
	case TypePatientUpserted:
		p := domain.PatientProfile{
			PatientID: m.PatientID, Name: m.Name, Phone: m.Phone, Email: m.Email, Locale: m.Locale,
			LineUserID: m.LineUserID, BirthDate: m.BirthDate, Dependents: []domain.Dependent{},
		}
		for _, d := range m.Dependents {
			p.Dependents = append(p.Dependents, domain.Dependent{PatientID: d.PatientID, Relation: d.Relation, ConsentAt: d.ConsentAt})
		}
		c.Profile = p
	case TypePatientMerged:
		c.PatientID, c.IntoID = m.FromPatientID, m.IntoPatientID
	}
	return c
}

// UnmarshalJSON decodes one JSON object strictly (see Decode); the value
// rules are Validate's. A body whose schemaVersion is an unknown version
// decodes to just SchemaVersion and EventID, without error, so that Validate
// reports apperr.ErrUnknownVersion.
func (m *PatientEvent) UnmarshalJSON(b []byte) error {
	tree, err := parseObject(b)
	if err != nil {
		return err
	}
	if v := unknownVersion(tree); v != 0 {
		id, _ := tree["eventId"].(string)
		*m = PatientEvent{SchemaVersion: v, EventID: id}
		return nil
	}
	r := newReader(tree)
	out := PatientEvent{
		SchemaVersion: int(r.integer("schemaVersion", false)),
		EventID:       r.str("eventId"),
		Type:          r.str("type"),
		OccurredAt:    r.dateTime("occurredAt"),
		Version:       r.integer("version", false),
		PatientID:     r.optStr("patientId"),
		Name:          r.optStr("name"),
		Phone:         r.optStr("phone"),
		Email:         r.optStr("email"),
		Locale:        r.optStr("locale"),
		LineUserID:    r.optStr("lineUserId"),
		BirthDate:     r.optStr("birthDate"),
		FromPatientID: r.optStr("fromPatientId"),
		IntoPatientID: r.optStr("intoPatientId"),
	}
	if _, present := tree["dependents"]; present {
		ds := r.objects("dependents")
		out.Dependents = make([]PatientDependent, len(ds))
		for i, d := range ds {
			out.Dependents[i] = PatientDependent{
				PatientID: d.str("patientId"),
				Relation:  d.str("relation"),
				ConsentAt: d.dateTime("consentAt"),
			}
			d.done()
		}
	}
	r.done()
	if *r.err != nil {
		return *r.err
	}
	*m = out
	return nil
}
