package messages

import (
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// TypeCheckupRoster is the type of every CheckupRoster.
const TypeCheckupRoster = "checkup.roster"

// CheckupRoster is a corporate check-up roster
// (docs/contracts/checkup-roster.v1.schema.json): the participants to book
// for a campaign at one branch and service within a window of dates.
//
// Rules the schema cannot express are the domain's: the window's order and
// span (domain.CheckRosterWindow, the whole roster is refused) and, per
// participant, duplicates and preferred dates outside the window
// (domain.PlaceRoster reports them).
type CheckupRoster struct {
	SchemaVersion int                        `json:"schemaVersion"` // 1
	EventID       string                     `json:"eventId"`       // the dedupe key
	Type          string                     `json:"type"`          // TypeCheckupRoster
	OccurredAt    time.Time                  `json:"occurredAt"`
	CampaignID    string                     `json:"campaignId"`
	BranchID      string                     `json:"branchId"`
	ServiceID     string                     `json:"serviceId"`
	Window        domain.RosterWindow        `json:"window"`
	Participants  []domain.RosterParticipant `json:"participants"`
}

var _ Message = CheckupRoster{}

// DecodeCheckupRoster is Decode for a roster message.
func DecodeCheckupRoster(body []byte) (CheckupRoster, error) { return Decode[CheckupRoster](body) }

// DedupeKey returns the producer's eventId.
func (m CheckupRoster) DedupeKey() string { return m.EventID }

// Validate checks the schema's rules: schemaVersion 1 (another positive
// version wraps apperr.ErrUnknownVersion), ids 1..128 characters of
// [A-Za-z0-9_.:/-], type checkup.roster, occurredAt set, window dates
// YYYY-MM-DD, 1..domain.MaxRosterParticipants participants each with an id
// externalId, a name of 1..200 characters, an E.164 phone, an ASCII email of
// at most 254 characters, locale th or en, and an optional preferredDate.
func (m CheckupRoster) Validate() error {
	if err := checkVersion(m.SchemaVersion); err != nil {
		return err
	}
	var v validator
	v.id("eventId", m.EventID, true)
	if m.Type != TypeCheckupRoster {
		v.fail("type: must be %s", TypeCheckupRoster)
	}
	v.instant("occurredAt", m.OccurredAt)
	v.id("campaignId", m.CampaignID, true)
	v.id("branchId", m.BranchID, true)
	v.id("serviceId", m.ServiceID, true)
	v.date("window.from", m.Window.From, true)
	v.date("window.to", m.Window.To, true)
	if n := len(m.Participants); n < 1 || n > domain.MaxRosterParticipants {
		v.fail("participants: must list 1..%d participants (split a larger roster into several messages)", domain.MaxRosterParticipants)
	}
	for i, p := range m.Participants {
		if v.err != nil {
			break
		}
		f := func(name string) string { return "participants[" + itoa(i) + "]." + name }
		v.id(f("externalId"), p.ExternalID, true)
		v.text(f("name"), p.Name, 200, true)
		switch {
		case p.Phone == "":
			v.fail("%s: is required", f("phone"))
		case !rePhone.MatchString(p.Phone):
			v.fail("%s: must be E.164, such as +66812345678", f("phone"))
		}
		switch {
		case p.Email == "":
			v.fail("%s: is required", f("email"))
		case len(p.Email) > 254 || !reEmail.MatchString(p.Email):
			v.fail("%s: must be an ASCII email address of at most 254 characters", f("email"))
		}
		if p.Locale != "th" && p.Locale != "en" {
			v.fail("%s: must be th or en", f("locale"))
		}
		v.date(f("preferredDate"), p.PreferredDate, false)
	}
	return v.err
}

// UnmarshalJSON decodes one JSON object strictly (see Decode); the value
// rules are Validate's. A body whose schemaVersion is an unknown version
// decodes to just SchemaVersion and EventID, without error, so that Validate
// reports apperr.ErrUnknownVersion.
func (m *CheckupRoster) UnmarshalJSON(b []byte) error {
	tree, err := parseObject(b)
	if err != nil {
		return err
	}
	if v := unknownVersion(tree); v != 0 {
		id, _ := tree["eventId"].(string)
		*m = CheckupRoster{SchemaVersion: v, EventID: id}
		return nil
	}
	r := newReader(tree)
	out := CheckupRoster{
		SchemaVersion: int(r.integer("schemaVersion", false)),
		EventID:       r.str("eventId"),
		Type:          r.str("type"),
		OccurredAt:    r.dateTime("occurredAt"),
		CampaignID:    r.str("campaignId"),
		BranchID:      r.str("branchId"),
		ServiceID:     r.str("serviceId"),
	}
	w := r.object("window")
	out.Window = domain.RosterWindow{From: w.str("from"), To: w.str("to")}
	w.done()
	if ps := r.objects("participants"); ps != nil {
		out.Participants = make([]domain.RosterParticipant, len(ps))
		for i, p := range ps {
			out.Participants[i] = domain.RosterParticipant{
				ExternalID:    p.str("externalId"),
				Name:          p.str("name"),
				Phone:         p.str("phone"),
				Email:         p.str("email"),
				Locale:        p.str("locale"),
				PreferredDate: p.optStr("preferredDate"),
			}
			p.done()
		}
	}
	r.done()
	if *r.err != nil {
		return *r.err
	}
	*m = out
	return nil
}
