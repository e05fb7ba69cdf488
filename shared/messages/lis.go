package messages

import (
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// TypeSampleStatusChanged is the type of every LISSampleStatus.
const TypeSampleStatusChanged = "sample.status_changed"

// LISSampleStatus is a sample status change sent by the LIS
// (docs/contracts/lis-sample-status.v1.schema.json).
type LISSampleStatus struct {
	SchemaVersion int       `json:"schemaVersion"` // 1
	EventID       string    `json:"eventId"`       // the dedupe key
	Type          string    `json:"type"`          // TypeSampleStatusChanged
	OccurredAt    time.Time `json:"occurredAt"`
	// AppointmentID links the lab order to an appointment; "" when absent
	// (allowed once the order is linked).
	AppointmentID string              `json:"appointmentId,omitempty"`
	LabOrderID    string              `json:"labOrderId"`
	SampleID      string              `json:"sampleId"`
	Status        domain.SampleStatus `json:"status"`
	Reason        string              `json:"reason,omitempty"`   // ≤ 500 characters; "" when absent
	Sequence      int64               `json:"sequence,omitempty"` // 1..2^53−1; 0 when absent
}

var _ Message = LISSampleStatus{}

// DecodeLISSampleStatus is Decode for an LIS message.
func DecodeLISSampleStatus(body []byte) (LISSampleStatus, error) {
	return Decode[LISSampleStatus](body)
}

// DedupeKey returns the producer's eventId.
func (m LISSampleStatus) DedupeKey() string { return m.EventID }

// Validate checks the schema's rules: schemaVersion 1 (another positive
// version wraps apperr.ErrUnknownVersion), ids 1..128 characters of [A-Za-z0-9_.:/-],
// type sample.status_changed, occurredAt set, status one of the six, reason
// at most 500 characters without control characters, sequence 0 (absent) or
// 1..2^53−1.
func (m LISSampleStatus) Validate() error {
	if err := checkVersion(m.SchemaVersion); err != nil {
		return err
	}
	var v validator
	v.id("eventId", m.EventID, true)
	if m.Type != TypeSampleStatusChanged {
		v.fail("type: must be %s", TypeSampleStatusChanged)
	}
	v.instant("occurredAt", m.OccurredAt)
	v.id("appointmentId", m.AppointmentID, false)
	v.id("labOrderId", m.LabOrderID, true)
	v.id("sampleId", m.SampleID, true)
	if !m.Status.Valid() {
		v.fail("status: must be one of collected, received, in_progress, resulted, rejected, recollect_required")
	}
	v.text("reason", m.Reason, 500, false)
	if m.Sequence < 0 || m.Sequence > maxSafeInteger {
		v.fail("sequence: must be 1..2^53-1")
	}
	return v.err
}

// SampleEvent returns the message as a domain event for
// domain.ApplySampleEvent.
func (m LISSampleStatus) SampleEvent() domain.SampleEvent {
	return domain.SampleEvent{
		EventID:       m.EventID,
		OccurredAt:    m.OccurredAt,
		AppointmentID: m.AppointmentID,
		LabOrderID:    m.LabOrderID,
		SampleID:      m.SampleID,
		Status:        m.Status,
		Reason:        m.Reason,
		Sequence:      m.Sequence,
	}
}

// UnmarshalJSON decodes one JSON object strictly (see Decode); the value
// rules are Validate's. A body whose schemaVersion is an unknown version
// decodes to just SchemaVersion and EventID, without error, so that Validate
// reports apperr.ErrUnknownVersion.
func (m *LISSampleStatus) UnmarshalJSON(b []byte) error {
	tree, err := parseObject(b)
	if err != nil {
		return err
	}
	if v := unknownVersion(tree); v != 0 {
		id, _ := tree["eventId"].(string)
		*m = LISSampleStatus{SchemaVersion: v, EventID: id}
		return nil
	}
	r := newReader(tree)
	out := LISSampleStatus{
		SchemaVersion: int(r.integer("schemaVersion", false)),
		EventID:       r.str("eventId"),
		Type:          r.str("type"),
		OccurredAt:    r.dateTime("occurredAt"),
		AppointmentID: r.optStr("appointmentId"),
		LabOrderID:    r.str("labOrderId"),
		SampleID:      r.str("sampleId"),
		Status:        domain.SampleStatus(r.str("status")),
		Reason:        r.optStr("reason"),
		Sequence:      r.integer("sequence", true),
	}
	r.done()
	if *r.err != nil {
		return *r.err
	}
	*m = out
	return nil
}
