package jobs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/logctx"
)

// Defaults of Cleanup.
const (
	// DefaultPDPARetention is how long after a visit's end its patient's
	// contact data is kept (PDPA_RETENTION_DAYS).
	DefaultPDPARetention = 365 * 24 * time.Hour
	// FirstExpiryLookback is how far back the first purge of expired records
	// looks (older items predate the expiry index and are left to DynamoDB's
	// TTL).
	FirstExpiryLookback = 30 * 24 * time.Hour
	// FirstPDPALookback is how far before the retention cutoff the first
	// minimisation run looks.
	FirstPDPALookback = 30 * 24 * time.Hour
	// PDPAReason is the history reason of an anonymization.
	PDPAReason = "personal data removed after the retention period (PDPA)"
)

// PDPAActor is the history actor of an anonymization.
var PDPAActor = domain.ActorRef{ID: "pdpa-retention", Role: domain.RoleSystem}

// generatedReasons are history reasons the code writes itself, whatever the
// actor: fixed texts that cannot hold personal data, kept by anonymization.
var generatedReasons = []string{"rescheduled", NoShowReason}

// keepReason reports whether a history entry's reason survives
// anonymization: reasons written by systems (LIS, POS, jobs) are generated
// from ids and states; reasons people typed are free text and may name or
// describe the patient, so they go.
func keepReason(h domain.HistoryEntry) bool {
	return h.Actor.Role == domain.RoleSystem || slices.Contains(generatedReasons, h.Reason)
}

// Anonymized returns a without the patient's personal data: of the patient
// only the id and the locale stay (so a field added to Patient later is
// removed by default), and the notes go. Status, branch, service, times,
// resources, preparation, lab orders and billing (ids and states) stay.
func Anonymized(a domain.Appointment) domain.Appointment {
	a.Patient = domain.Patient{ID: a.Patient.ID, Locale: a.Patient.Locale}
	a.Notes = ""
	return a
}

// hasPersonalData reports whether Anonymized would change a.
func hasPersonalData(a domain.Appointment) bool {
	return a.Notes != "" || !reflect.DeepEqual(a.Patient, Anonymized(a).Patient)
}

// Cleanup deletes expired records and minimises old appointments' personal
// data.
type Cleanup struct {
	store     CleanupStore
	retention time.Duration
}

// NewCleanup returns the cleanup job; retention ≤ 0 means
// DefaultPDPARetention.
func NewCleanup(store CleanupStore, retention time.Duration) *Cleanup {
	if retention <= 0 {
		retention = DefaultPDPARetention
	}
	return &Cleanup{store: store, retention: retention}
}

// ExpiryReport says what a purge of expired records did.
type ExpiryReport struct {
	// Days is how many expiry index buckets (UTC days) were read.
	Days int `json:"days"`
	// Deleted counts deleted items, Kept items refreshed since they were
	// indexed (their new expiry is in a later bucket).
	Deleted int `json:"deleted"`
	Kept    int `json:"kept"`
}

// PDPAReport says what a data minimisation run did.
type PDPAReport struct {
	// From and To bound the visit ends the run was after: (From, To], To
	// being now − retention.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Branches walked and appointments listed.
	Branches     int `json:"branches"`
	Appointments int `json:"appointments"`
	// Anonymized counts appointments whose personal data was removed;
	// HistoryReasons the free-text history reasons removed with them.
	Anonymized     int `json:"anonymized"`
	HistoryReasons int `json:"historyReasons"`
	// Failed counts appointments that could not be anonymized (the run
	// fails and the next one retries them).
	Failed int `json:"failed"`
}

// CleanupReport says what one run of Cleanup did.
type CleanupReport struct {
	Expired ExpiryReport `json:"expired"`
	PDPA    PDPAReport   `json:"pdpa"`
}

// Run purges expired records (PurgeExpired) and then minimises personal data
// (MinimiseData); one failing does not stop the other, and the errors are
// returned joined. The purge gets its own budget, half the invocation's
// remaining time: a backlog of expired records ends its half (the watermark
// stays, the next run continues) rather than leaving PDPA minimisation no
// time to run.
func (c *Cleanup) Run(ctx context.Context, now time.Time) (CleanupReport, error) {
	var rep CleanupReport
	var err1, err2 error
	purgeCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		purgeCtx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
		defer cancel()
	}
	rep.Expired, err1 = c.PurgeExpired(purgeCtx, now)
	rep.PDPA, err2 = c.MinimiseData(ctx, now)
	return rep, errors.Join(err1, err2)
}

// PurgeExpired deletes the idempotency and dedupe records and the published
// outbox records whose ttl is before now, without relying on DynamoDB's TTL
// and without a Scan: it reads the expiry index's day buckets from the day of
// the watermark of JobCleanup (first run: FirstExpiryLookback back) to today
// (UTC), and deletes the items whose ttl is still before now, in batches
// (one read and one delete request per 25 items, see dynamo.Store.PurgeExpired).
// The watermark advances to now when every bucket was purged.
func (c *Cleanup) PurgeExpired(ctx context.Context, now time.Time) (ExpiryReport, error) {
	var rep ExpiryReport
	now = now.UTC()
	w, found, err := c.store.GetWatermark(ctx, JobCleanup)
	if err != nil {
		return rep, fmt.Errorf("jobs: purge expired: %w", err)
	}
	if !found {
		w = now.Add(-FirstExpiryLookback)
	}
	var errs []error
	for _, day := range localDates(w, now, time.UTC) {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		rep.Days++
		deleted, kept, err := c.store.PurgeExpired(ctx, day, now)
		rep.Deleted += deleted
		rep.Kept += kept
		if err != nil {
			errs = append(errs, err)
		}
	}
	log := logctx.Logger(ctx)
	if err := errors.Join(errs...); err != nil {
		log.ErrorContext(ctx, "purge expired: run failed; the watermark stays", "error", err.Error(), "report", rep)
		return rep, fmt.Errorf("jobs: purge expired: %w", err)
	}
	if err := c.store.AdvanceWatermark(ctx, JobCleanup, now); err != nil {
		return rep, fmt.Errorf("jobs: purge expired: %w", err)
	}
	log.InfoContext(ctx, "purge expired", "report", rep)
	return rep, nil
}

// MinimiseData removes the patient's personal data (Anonymized) from every
// appointment that ended at least the retention before now and still has
// it, and removes the free-text reasons people wrote from its history (those
// systems wrote stay, see keepReason). Each appointment is one transaction
// conditional on its version that also appends a history entry by PDPAActor
// and marks it anonymized; it writes no event. The non-personal record stays
// readable.
//
// It walks the visits ending in (W − MaxVisitLength, now − retention], W
// being the watermark of JobPDPA (first run: FirstPDPALookback before the
// cutoff), and advances the watermark to the cutoff when every visit was
// handled. It is idempotent: an appointment without personal data is left
// alone.
func (c *Cleanup) MinimiseData(ctx context.Context, now time.Time) (PDPAReport, error) {
	var rep PDPAReport
	now = now.UTC()
	to := now.Add(-c.retention)
	w, found, err := c.store.GetWatermark(ctx, JobPDPA)
	if err != nil {
		return rep, fmt.Errorf("jobs: data minimisation: %w", err)
	}
	from := w
	if !found {
		from = to.Add(-FirstPDPALookback)
	}
	rep.From, rep.To = from, to
	if !from.Before(to) {
		return rep, nil
	}
	// A visit ending in (from, to] starts in (from − MaxVisitLength, to];
	// the day the watermark is in is walked again, which costs one query
	// per branch and changes nothing already anonymized.
	rep.Branches, rep.Appointments, err = forEachStarting(ctx, c.store, from.Add(-MaxVisitLength), to, func(a domain.Appointment, _ *time.Location) error {
		if a.End.After(to) || !hasPersonalData(a) {
			return nil
		}
		if err := c.anonymize(ctx, a, now, &rep); err != nil {
			rep.Failed++
			return err
		}
		return nil
	})
	log := logctx.Logger(ctx)
	if err != nil {
		log.ErrorContext(ctx, "data minimisation: run failed; the watermark stays", "error", err.Error(), "report", rep)
		return rep, fmt.Errorf("jobs: data minimisation: %w", err)
	}
	if err := c.store.AdvanceWatermark(ctx, JobPDPA, to); err != nil {
		return rep, fmt.Errorf("jobs: data minimisation: %w", err)
	}
	log.InfoContext(ctx, "data minimisation", "report", rep)
	return rep, nil
}

// anonymize removes a's personal data. The history reasons go first: should
// the run stop between the two writes, the appointment still has its
// personal data, so the next run does both again. The removal runs in each
// attempt of the update (it is idempotent), so a reason that a concurrent
// change wrote before the appointment's new version goes too.
func (c *Cleanup) anonymize(ctx context.Context, a domain.Appointment, now time.Time, rep *PDPAReport) error {
	changed := false
	_, err := c.store.UpdateAppointment(ctx, a.ID, func(cur domain.Appointment) (app.Change, error) {
		if changed = hasPersonalData(cur); !changed {
			return app.Change{}, nil
		}
		n, err := c.store.RemoveHistoryReasons(ctx, cur.ID, keepReason)
		rep.HistoryReasons += n
		if err != nil {
			return app.Change{}, err
		}
		next := Anonymized(cur)
		next.Version, next.UpdatedAt = cur.Version+1, now
		h := domain.HistoryEntry{At: now, From: cur.Status, To: cur.Status, Actor: PDPAActor, Reason: PDPAReason, Start: cur.Start, End: cur.End}
		// No event: the removal is no change anyone downstream acts on.
		ch := app.One(next, h, domain.Event{})
		ch.Anonymized = true
		return ch, nil
	})
	switch {
	case err == nil && changed:
		rep.Anonymized++
	case apperr.Is(err, apperr.NotFound):
		return nil
	}
	return err
}
