package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// CheckupActor is who books check-up participants: the system, with the
// rights of an administrator. It appears in the appointments' history.
var CheckupActor = domain.Actor{ID: "checkup", Role: domain.RoleAdmin}

// CheckupWorkSchemaVersion is the version of CheckupWork messages.
const CheckupWorkSchemaVersion = 1

// Roster is a check-up roster as the use case needs it (the wire format is
// messages.CheckupRoster).
type Roster struct {
	CampaignID   string
	BranchID     string
	ServiceID    string
	Window       domain.RosterWindow
	Participants []domain.RosterParticipant
}

// CheckupWork is one participant to place: the message the roster consumer
// sends to the booking consumer's queue. Its body depends only on the stored
// campaign and participant, so every send for a participant is the same
// message.
type CheckupWork struct {
	SchemaVersion int                      `json:"schemaVersion"`
	CampaignID    string                   `json:"campaignId"`
	BranchID      string                   `json:"branchId"`
	ServiceID     string                   `json:"serviceId"`
	Window        domain.RosterWindow      `json:"window"`
	Participant   domain.RosterParticipant `json:"participant"`
}

// DedupeKey is the participant's key (domain.ParticipantKey): campaign id and
// external id.
func (w CheckupWork) DedupeKey() string {
	return domain.ParticipantKey(w.CampaignID, w.Participant.ExternalID)
}

// Validate checks the version, the ids and the window; VALIDATION_FAILED
// names the field.
func (w CheckupWork) Validate() error {
	switch {
	case w.SchemaVersion != CheckupWorkSchemaVersion:
		return apperr.E(apperr.Validation, "schemaVersion: must be %d", CheckupWorkSchemaVersion)
	case w.CampaignID == "" || w.BranchID == "" || w.ServiceID == "":
		return apperr.E(apperr.Validation, "campaignId, branchId and serviceId are required")
	case w.Participant.ExternalID == "":
		return apperr.E(apperr.Validation, "participant.externalId: is required")
	}
	return domain.CheckRosterWindow(w.Window)
}

// CheckupPatientID is the patient id of a campaign participant: derived from
// campaign id and external id only, so every delivery books the same patient
// and finds that patient's earlier booking.
func CheckupPatientID(campaignID, externalID string) string {
	sum := sha256.Sum256([]byte(domain.ParticipantKey(campaignID, externalID)))
	return "chk-" + hex.EncodeToString(sum[:16])
}

// Checkup places corporate check-up participants through the booking use
// case (Service.Book), and reports campaigns.
type Checkup struct {
	svc       *Service
	campaigns CampaignStore
	work      CheckupWorkQueue
}

// NewCheckup builds the check-up use cases. work may be nil for functions
// that only book or report.
func NewCheckup(svc *Service, campaigns CampaignStore, work CheckupWorkQueue) *Checkup {
	return &Checkup{svc: svc, campaigns: campaigns, work: work}
}

// AcceptRoster records a roster's campaign and participants and sends one
// work item per pending participant.
//
// The roster is refused (VALIDATION_FAILED, NOT_FOUND, CONFLICT: permanent)
// when its window is invalid, it lists more than domain.MaxRosterParticipants
// participants, the branch or service does not exist or the service is not
// the branch's, or the campaign was recorded earlier with another branch,
// service or window. Participants that cannot be booked (invalid contact,
// preferred date outside the window) are recorded unplaced at once; a repeated
// external id is ignored. Participants recorded by an earlier delivery keep
// their state, and every participant still pending is sent again, from its
// stored data, so a redelivered roster loses nobody and books nobody twice
// (the work items are deduplicated by participant key). Any other error is
// transient.
func (c *Checkup) AcceptRoster(ctx context.Context, r Roster) error {
	if c.work == nil {
		return apperr.E(apperr.Internal, "checkup: no work queue configured")
	}
	if err := domain.CheckRosterWindow(r.Window); err != nil {
		return err
	}
	if n := len(r.Participants); n == 0 || n > domain.MaxRosterParticipants {
		return apperr.E(apperr.Validation, "participants: must list 1..%d participants", domain.MaxRosterParticipants)
	}
	if _, _, err := c.svc.catalog(ctx, r.BranchID, r.ServiceID); err != nil {
		return notFoundIsPermanent(err)
	}
	camp, _, err := c.campaigns.CreateCampaign(ctx, Campaign{
		ID: r.CampaignID, BranchID: r.BranchID, ServiceID: r.ServiceID, Window: r.Window, CreatedAt: c.svc.clock(),
	})
	if err != nil {
		return err
	}
	if camp.BranchID != r.BranchID || camp.ServiceID != r.ServiceID || camp.Window != r.Window {
		// A retry cannot make the campaign match: permanent, although CONFLICT.
		return apperr.MarkPermanent(apperr.E(apperr.Conflict, "campaign %s was recorded with another branch, service or window", r.CampaignID))
	}

	// Classify without capacity: everyone bookable comes out no_capacity.
	cls, err := domain.PlaceRoster(r.CampaignID, r.Window, r.Participants, nil, nil)
	if err != nil {
		return err
	}
	ps := make([]CampaignParticipant, 0, len(cls.Unplaced))
	for _, u := range cls.Unplaced {
		switch u.Reason {
		case domain.PlacementDuplicate:
			continue
		case domain.PlacementInvalidParticipant:
			if u.Key == "" { // no usable external id: nothing to key it by
				continue
			}
		}
		p := CampaignParticipant{ExternalID: u.ExternalID, Participant: r.Participants[u.Index], Status: ParticipantPending}
		if u.Reason != domain.PlacementNoCapacity {
			p.Status, p.Reason = ParticipantUnplaced, u.Reason
		}
		ps = append(ps, p)
	}
	if err := c.campaigns.AddParticipants(ctx, r.CampaignID, ps); err != nil {
		return err
	}

	stored, err := c.campaigns.ListParticipants(ctx, r.CampaignID)
	if err != nil {
		return err
	}
	var items []CheckupWork
	for _, p := range stored {
		if p.Status != ParticipantPending {
			continue
		}
		items = append(items, CheckupWork{
			SchemaVersion: CheckupWorkSchemaVersion, CampaignID: camp.ID, BranchID: camp.BranchID,
			ServiceID: camp.ServiceID, Window: camp.Window, Participant: p.Participant,
		})
	}
	if len(items) == 0 {
		return nil
	}
	return c.work.SendWork(ctx, items)
}

// PlaceParticipant books one participant of a work item into the earliest
// start of the campaign's window with room, preferring the participant's
// preferred date (domain.PlaceRoster's rules), through Service.Book.
//
// A participant already settled is left alone. A booking of the participant's
// patient (CheckupPatientID) at the campaign's branch and service within the
// window is reused instead of booking again, so a work item redelivered after
// an interrupted run never books twice. A start taken concurrently
// (SLOT_UNAVAILABLE after Book's own retries) moves on to the next start; no
// start with room settles the participant unplaced with no_capacity, and
// contact data the booking refuses settles it with invalid_contact: both are
// outcomes, not errors. NOT_FOUND for an unknown campaign or participant (the
// roster records both before sending work) and VALIDATION_FAILED are
// permanent; other errors are transient.
func (c *Checkup) PlaceParticipant(ctx context.Context, w CheckupWork) error {
	if err := w.Validate(); err != nil {
		return err
	}
	camp, err := c.campaigns.GetCampaign(ctx, w.CampaignID)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	ext := w.Participant.ExternalID
	cur, err := c.campaigns.GetParticipant(ctx, camp.ID, ext)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if cur.Status != ParticipantPending {
		return nil
	}
	p := cur.Participant
	patientID := CheckupPatientID(camp.ID, ext)

	if a, ok, err := c.existingBooking(ctx, camp, patientID); err != nil {
		return err
	} else if ok {
		return c.settle(ctx, camp.ID, CampaignParticipant{ExternalID: ext, Status: ParticipantPlaced, AppointmentID: a.ID, Start: a.Start}, "")
	}

	cat, _, err := c.svc.catalog(ctx, camp.BranchID, camp.ServiceID)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	loc, err := domain.LoadLocation(cat.Branch.TimeZone)
	if err != nil {
		return apperr.Wrap(err, "branch %s has a bad time zone", cat.Branch.ID)
	}
	starts, err := c.candidates(ctx, camp, loc)
	if err != nil {
		return err
	}
	for {
		plan, err := domain.PlaceRoster(camp.ID, camp.Window, []domain.RosterParticipant{p}, starts, nil)
		if err != nil {
			return err
		}
		if len(plan.Unplaced) > 0 {
			return c.settle(ctx, camp.ID, CampaignParticipant{ExternalID: ext, Status: ParticipantUnplaced, Reason: plan.Unplaced[0].Reason}, "")
		}
		at := plan.Placed[0]
		norm := at.Participant
		a, err := c.svc.Book(ctx, CheckupActor, BookInput{
			BranchID: camp.BranchID, ServiceID: camp.ServiceID, Start: at.Start,
			Patient: domain.Patient{ID: patientID, Name: norm.Name, Phone: norm.Phone, Email: norm.Email, Locale: norm.Locale},
			Notes:   "Check-up campaign " + camp.ID,
		})
		switch {
		case err == nil:
			return c.settle(ctx, camp.ID, CampaignParticipant{ExternalID: ext, Status: ParticipantPlaced, AppointmentID: a.ID, Start: a.Start}, a.ID)
		case apperr.Is(err, apperr.SlotUnavailable), apperr.Is(err, apperr.OutsideSchedule):
			// Taken meanwhile (or no longer bookable): try the next start.
			for i := range starts {
				if starts[i].Start.Equal(at.Start) {
					starts[i].Capacity = 0
				}
			}
		case apperr.Is(err, apperr.Validation):
			return c.settle(ctx, camp.ID, CampaignParticipant{ExternalID: ext, Status: ParticipantUnplaced, Reason: domain.PlacementInvalidContact}, "")
		default:
			return err
		}
	}
}

// existingBooking finds a booked appointment of patientID at the campaign's
// branch and service within its window.
func (c *Checkup) existingBooking(ctx context.Context, camp Campaign, patientID string) (domain.Appointment, bool, error) {
	cursor := ""
	for {
		page, err := c.svc.store.ListAppointmentsByPatient(ctx, patientID, 100, cursor)
		if err != nil {
			return domain.Appointment{}, false, err
		}
		for _, a := range page.Items {
			if a.Status == domain.StatusBooked && a.BranchID == camp.BranchID && a.ServiceID == camp.ServiceID &&
				camp.Window.Contains(a.Start.Format("2006-01-02")) {
				return a, true, nil
			}
		}
		if page.Cursor == "" {
			return domain.Appointment{}, false, nil
		}
		cursor = page.Cursor
	}
}

// candidates returns the bookable starts of the window, with their room,
// reading availability in chunks of domain.MaxRangeDays.
func (c *Checkup) candidates(ctx context.Context, camp Campaign, loc *time.Location) ([]domain.CandidateStart, error) {
	dates, err := domain.DatesInRange(camp.Window.From, camp.Window.To, domain.MaxRosterWindowDays)
	if err != nil {
		return nil, err
	}
	var out []domain.CandidateStart
	for i := 0; i < len(dates); i += domain.MaxRangeDays {
		j := min(i+domain.MaxRangeDays, len(dates))
		slots, err := c.svc.Availability(ctx, CheckupActor, AvailabilityQuery{
			BranchID: camp.BranchID, ServiceID: camp.ServiceID, From: dates[i], To: dates[j-1],
		})
		if err != nil {
			return nil, err
		}
		for _, s := range slots {
			out = append(out, domain.CandidateStart{Date: domain.LocalDate(s.Start, loc), Start: s.Start, Capacity: s.Available})
		}
	}
	return out, nil
}

// notFoundIsPermanent marks a NOT_FOUND permanent: the roster records the
// campaign and its participants before any work is sent, and a roster's
// branch and service do not appear later, so here it is never data on its
// way (the default reading of NOT_FOUND, see apperr.Classify).
func notFoundIsPermanent(err error) error {
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.MarkPermanent(err)
	}
	return err
}

// settle records an outcome. If the participant was settled meanwhile (which
// the consumer's dedupe makes unlikely), the appointment just booked, if any,
// is cancelled so that the participant keeps one booking; if that
// cancellation fails, the joined error is transient when the cancellation's
// failure is (apperr.Classify), so the work item is retried and the
// duplicate does not keep its slot.
func (c *Checkup) settle(ctx context.Context, campaignID string, p CampaignParticipant, booked string) error {
	err := c.campaigns.SettleParticipant(ctx, campaignID, p)
	if !apperr.Is(err, apperr.Conflict) {
		return err
	}
	if booked != "" {
		cur, gerr := c.campaigns.GetParticipant(ctx, campaignID, p.ExternalID)
		if gerr != nil {
			return gerr
		}
		if cur.AppointmentID != booked {
			if _, cerr := c.svc.Cancel(ctx, CheckupActor, booked, "duplicate check-up placement"); cerr != nil {
				return errors.Join(err, cerr)
			}
		}
	}
	return nil
}

// CampaignReport is the outcome of a campaign, without contact data.
type CampaignReport struct {
	CampaignID string              `json:"campaignId"`
	BranchID   string              `json:"branchId"`
	ServiceID  string              `json:"serviceId"`
	Window     domain.RosterWindow `json:"window"`
	Placed     []PlacedReport      `json:"placed"`
	Unplaced   []UnplacedReport    `json:"unplaced"`
	Pending    int                 `json:"pending"`
}

// PlacedReport is a placed participant of a CampaignReport.
type PlacedReport struct {
	ExternalID    string    `json:"externalId"`
	AppointmentID string    `json:"appointmentId"`
	Start         time.Time `json:"start"`
}

// UnplacedReport is an unplaced participant of a CampaignReport.
type UnplacedReport struct {
	ExternalID string                 `json:"externalId"`
	Reason     domain.PlacementReason `json:"reason"`
}

// CampaignReport reports a campaign's placed and unplaced participants (in
// external id order) and how many are pending: staff of the campaign's
// branch and admins; NOT_FOUND for everyone else and for an unknown campaign.
// UNAUTHENTICATED.
func (c *Checkup) CampaignReport(ctx context.Context, actor domain.Actor, id string) (CampaignReport, error) {
	if err := authenticated(actor); err != nil {
		return CampaignReport{}, err
	}
	if actor.Role != domain.RoleAdmin && actor.Role != domain.RoleStaff {
		return CampaignReport{}, notFound("campaign", id)
	}
	if id == "" || len(id) > 128 {
		return CampaignReport{}, notFound("campaign", id)
	}
	camp, err := c.campaigns.GetCampaign(ctx, id)
	if err != nil {
		return CampaignReport{}, err
	}
	if !actor.InBranch(camp.BranchID) {
		return CampaignReport{}, notFound("campaign", id)
	}
	ps, err := c.campaigns.ListParticipants(ctx, id)
	if err != nil {
		return CampaignReport{}, err
	}
	rep := CampaignReport{CampaignID: camp.ID, BranchID: camp.BranchID, ServiceID: camp.ServiceID, Window: camp.Window,
		Placed: []PlacedReport{}, Unplaced: []UnplacedReport{}}
	for _, p := range ps {
		switch p.Status {
		case ParticipantPlaced:
			rep.Placed = append(rep.Placed, PlacedReport{ExternalID: p.ExternalID, AppointmentID: p.AppointmentID, Start: p.Start})
		case ParticipantUnplaced:
			rep.Unplaced = append(rep.Unplaced, UnplacedReport{ExternalID: p.ExternalID, Reason: p.Reason})
		default:
			rep.Pending++
		}
	}
	return rep, nil
}
