package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Store is what the dispatcher reads and writes (the DynamoDB store
// implements it).
type Store interface {
	// GetAppointment returns the appointment as it is now, or NOT_FOUND.
	GetAppointment(ctx context.Context, id string) (domain.Appointment, error)
	// LoadCatalog returns the branch (name, address, time zone) and its
	// services (name, preparation).
	LoadCatalog(ctx context.Context, branchID string) (domain.Catalog, error)
	// GetProfile returns a patient's preferences and devices (defaults when
	// the patient has none).
	GetProfile(ctx context.Context, patientID string) (Profile, error)
	// ClaimDelivery records d (status Sending with d.LeaseUntil, or a final
	// status) unless the delivery exists and is final or still leased. It
	// returns whether d was written and the delivery as stored afterwards
	// (on a take-over of a lapsed claim, with the earlier attempts).
	ClaimDelivery(ctx context.Context, d Delivery, now time.Time) (claimed bool, stored Delivery, err error)
	// FinishDelivery stores the final state of a delivery this dispatcher
	// claimed.
	FinishDelivery(ctx context.Context, d Delivery) error
	// ReleaseDelivery stores a claimed delivery's attempts and reason and
	// ends its lease at d.LeaseUntil, leaving it in flight, so that the
	// job's next delivery takes it over.
	ReleaseDelivery(ctx context.Context, d Delivery) error
	// RemoveDevice unregisters a device the push provider no longer knows.
	RemoveDevice(ctx context.Context, patientID, token string) error
}

// Defaults of Options.
const (
	DefaultMaxAttempts = 4
	DefaultBaseBackoff = 500 * time.Millisecond
	DefaultMaxBackoff  = 8 * time.Second
	DefaultLease       = 2 * time.Minute
	// DefaultFinalReceive is the job delivery from which a provider that
	// stays unavailable makes the delivery failed (see Options.FinalReceive).
	DefaultFinalReceive = 3
)

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// MaxAttempts is how many times a transient provider failure is tried
	// before the delivery is recorded as failed (retries_exhausted).
	MaxAttempts int
	// BaseBackoff is the wait after the first failed attempt; each next wait
	// doubles, with jitter, up to MaxBackoff.
	BaseBackoff, MaxBackoff time.Duration
	// FinalReceive: when every attempt of a delivery failed transiently (the
	// provider throttles or is down), a job delivered fewer times than this
	// leaves the delivery in flight and fails, so the queue delivers it
	// again after its visibility timeout and the next attempts continue the
	// count; from this delivery on (or when the count is unknown) the
	// delivery is recorded as failed. It keeps a provider outage of a few
	// minutes from losing messages without retrying for ever. Default
	// DefaultFinalReceive; it must stay below the queue's maxReceiveCount.
	FinalReceive int
	// Lease is how long a claimed delivery blocks a concurrent one. It must
	// exceed the function timeout, so that only a dead invocation's claim
	// lapses.
	Lease time.Duration
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe is called with every delivery this dispatcher finished (for
	// metrics); nil means none.
	Observe func(ctx context.Context, d Delivery)
	// Quiet holds the messages of HeldKinds made during its quiet hours
	// (QuietStart, QuietEnd by the branch's clock) until they end: a
	// results-ready SMS caused by a lab event at 02:00 goes at 07:00. Its
	// lead times are not used. Zero: no quiet hours.
	Quiet domain.ReminderPolicy
}

// HeldKinds are the kinds that wait for the end of the quiet hours. The
// others answer something the patient just did (booking, cancelling,
// paying) or are timed already (reminders).
var HeldKinds = map[Kind]bool{KindResultsReady: true, KindRecollectionNeeded: true}

// Dispatcher turns notification jobs into messages: for each channel the
// patient can be reached on, it sends the job's message at most once.
type Dispatcher struct {
	store   Store
	senders map[Channel]Sender
	opts    Options
}

// NewDispatcher returns a dispatcher over store with one sender per channel
// (a channel without a sender is not used).
func NewDispatcher(store Store, senders map[Channel]Sender, opts Options) *Dispatcher {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.FinalReceive <= 0 {
		opts.FinalReceive = DefaultFinalReceive
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	return &Dispatcher{store: store, senders: senders, opts: opts}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrUnknownAppointment is returned for a job whose appointment does not
// exist: the job can never be delivered (a permanent failure).
var ErrUnknownAppointment = errors.New("notify: the job's appointment does not exist")

// ErrProviderUnavailable is returned when a delivery's provider failed
// every attempt transiently on a delivery of the job before
// Options.FinalReceive: the job must be retried later (transient).
var ErrProviderUnavailable = errors.New("notify: the provider stayed unavailable; the job is retried later")

// ErrInFlight is returned when another invocation holds a delivery of the
// job: the job must be retried later (a transient failure), when that
// delivery is final or its claim has lapsed.
var ErrInFlight = errors.New("notify: a delivery of this job is in flight elsewhere")

// Dispatch delivers a job on every channel and returns the deliveries it
// finished. A delivery already final (an earlier or concurrent run) is left
// alone. The error is ErrUnknownAppointment (marked permanent), an
// apperr.HeldError (a held kind during the quiet hours: nothing was claimed
// or sent; deliver the job again at its Until), ErrInFlight or a store error
// (transient): the job is then retried and the finished
// deliveries are not repeated.
func (d *Dispatcher) Dispatch(ctx context.Context, j Job) ([]Delivery, error) {
	kind := j.Kind()
	cur, err := d.store.GetAppointment(ctx, j.Appointment.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.MarkPermanent(ErrUnknownAppointment)
	}
	if err != nil {
		return nil, err
	}
	suppressed := SuppressReason(kind, j.Appointment.Start, cur)
	var data Data
	var profile Profile
	if suppressed == "" {
		if data, err = d.data(ctx, kind, cur, j); err != nil {
			return nil, err
		}
		if HeldKinds[kind] {
			if until, quiet := d.opts.Quiet.QuietUntil(d.opts.Now(), data.Location); quiet {
				return nil, apperr.HoldUntil(until, "notify: held by the quiet hours")
			}
		}
	}
	if profile, err = d.store.GetProfile(ctx, cur.Patient.ID); err != nil {
		return nil, err
	}
	prefs := profile.Preferences
	if !profile.Set {
		prefs = DefaultPreferences()
	}

	var done []Delivery
	var errs []error
	for _, ch := range Channels() {
		to := targets(ch, cur.Patient, profile.Devices)
		if len(to) == 0 || d.senders[ch] == nil {
			continue // the patient cannot be reached on ch: nothing to record
		}
		now := d.opts.Now().UTC()
		del := Delivery{
			AppointmentID: cur.ID, JobID: j.Event.ID, Kind: kind, Channel: ch,
			Status: StatusSending, CreatedAt: now, UpdatedAt: now, LeaseUntil: now.Add(d.opts.Lease),
		}
		switch {
		case suppressed != "":
			del.Status, del.Reason = StatusSuppressed, suppressed
		case !prefs.Allows(ch):
			del.Status, del.Reason = StatusOptedOut, "opted_out"
		}
		claimed, stored, err := d.store.ClaimDelivery(ctx, del, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !claimed {
			if !stored.Status.Final() {
				errs = append(errs, ErrInFlight)
			}
			continue
		}
		if del.Status.Final() {
			d.observe(ctx, stored)
			done = append(done, stored)
			continue
		}
		fin, err := d.send(ctx, stored, data, to, cur.Patient.ID)
		if err != nil {
			errs = append(errs, err) // left Sending: the claim lapses and a retry takes over
			continue
		}
		if fin.Status == StatusFailed && fin.Reason == reasonExhausted && j.ReceiveCount > 0 && j.ReceiveCount < d.opts.FinalReceive {
			// Not final yet: the queue's redelivery continues the attempts.
			fin.Status, fin.Reason, fin.LeaseUntil = StatusSending, reasonUnavailable, fin.UpdatedAt
			if err := d.store.ReleaseDelivery(ctx, fin); err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, ErrProviderUnavailable)
			continue
		}
		if err := d.store.FinishDelivery(ctx, fin); err != nil {
			errs = append(errs, err)
			continue
		}
		d.observe(ctx, fin)
		done = append(done, fin)
	}
	return done, errors.Join(errs...)
}

func (d *Dispatcher) observe(ctx context.Context, del Delivery) {
	if d.opts.Observe != nil {
		d.opts.Observe(ctx, del)
	}
}

// SuppressReason says why a job's message must not be sent any more, given
// the visit's start when the job was made (then) and the appointment now
// (cur): "cancelled"
// for a visit cancelled since (never a reminder or confirmation for a
// cancelled visit), "moved" for a reminder or reschedule alert of a start
// that is no longer the visit's (the new start has its own), "not_booked"
// for a reminder of a visit no longer booked (checked in, done). "" means
// send; a confirmation of a visit moved since shows the new time.
func SuppressReason(kind Kind, then time.Time, cur domain.Appointment) string {
	switch kind {
	case KindReminder:
		switch {
		case cur.Status == domain.StatusCancelled:
			return "cancelled"
		case cur.Status != domain.StatusBooked:
			return "not_booked"
		case !cur.Start.Equal(then):
			return "moved"
		}
	case KindConfirmation, KindCheckupInvitation:
		if cur.Status == domain.StatusCancelled {
			return "cancelled"
		}
	case KindReschedule:
		switch {
		case cur.Status == domain.StatusCancelled:
			return "cancelled"
		case !cur.Start.Equal(then):
			return "moved"
		}
	}
	return ""
}

// targets returns the addresses of ch: the phone, the email address or the
// device tokens.
func targets(ch Channel, p domain.Patient, devices []Device) []string {
	switch ch {
	case ChannelSMS:
		if p.Phone != "" {
			return []string{p.Phone}
		}
	case ChannelEmail:
		if p.Email != "" {
			return []string{p.Email}
		}
	case ChannelPush:
		out := make([]string, 0, len(devices))
		for _, dv := range devices {
			out = append(out, dv.Token)
		}
		return out
	}
	return nil
}

// data builds the template data from the appointment as it is now.
func (d *Dispatcher) data(ctx context.Context, kind Kind, cur domain.Appointment, j Job) (Data, error) {
	cat, err := d.store.LoadCatalog(ctx, cur.BranchID)
	if err != nil {
		return Data{}, err
	}
	loc, err := domain.LoadLocation(cat.Branch.TimeZone)
	if err != nil {
		return Data{}, fmt.Errorf("notify: branch %s: %w", cat.Branch.ID, err)
	}
	out := Data{
		Kind: kind, Locale: ResolveLocale(cur.Patient.Locale), AppointmentID: cur.ID,
		PatientName: cur.Patient.Name, BranchName: cat.Branch.Name, BranchAddress: cat.Branch.Address,
		Start: cur.Start.In(loc), End: cur.End.In(loc), Location: loc,
		Preparation: cur.Preparation, ServiceName: cur.ServiceID,
	}
	for _, s := range cat.Services {
		if s.ID == cur.ServiceID {
			out.ServiceName = s.Name
		}
	}
	if kind == KindReminder {
		out.LeadTime = j.LeadTime
	}
	if kind == KindPaymentConfirmation {
		if b, ok := lastPaid(cur.Billing); ok {
			out.Amount, out.Currency = b.Amount.Value(), b.Amount.Currency
		}
	}
	return out, nil
}

// lastPaid returns the most recently paid order.
func lastPaid(bs []domain.Billing) (domain.Billing, bool) {
	paid := make([]domain.Billing, 0, len(bs))
	for _, b := range bs {
		if b.Status == domain.BillingPaid || b.Status == domain.BillingRefunded {
			paid = append(paid, b)
		}
	}
	if len(paid) == 0 {
		return domain.Billing{}, false
	}
	sort.SliceStable(paid, func(i, k int) bool { return paid[i].PaidAt.Before(paid[k].PaidAt) })
	return paid[len(paid)-1], true
}

// send renders and sends a claimed delivery to every target, retrying
// transient failures with backoff, and returns its final state. It returns
// an error only when the invocation is running out of time (ctx): the
// delivery is then left to a retry.
func (d *Dispatcher) send(ctx context.Context, del Delivery, data Data, to []string, patientID string) (Delivery, error) {
	content, err := Render(data, del.Channel)
	if err != nil {
		del.Status, del.Reason = StatusFailed, "render_error"
		return d.final(del), nil
	}
	sender := d.senders[del.Channel]
	var sentIDs []string
	lastReason := ""
	for i, addr := range to {
		msg := Message{Channel: del.Channel, Kind: del.Kind, To: addr, Content: content,
			Key: fmt.Sprintf("%s#%s#%s#%d", del.AppointmentID, del.JobID, del.Channel, i)}
		id, reason, err := d.sendOne(ctx, sender, msg, &del)
		if err != nil {
			return del, err
		}
		if reason == "" {
			sentIDs = append(sentIDs, id)
			continue
		}
		lastReason = reason
		if reason == "provider_rejected" && del.Channel == ChannelPush {
			// An unregistered or disabled token will never work again.
			_ = d.store.RemoveDevice(ctx, patientID, addr)
		}
	}
	if len(sentIDs) > 0 {
		del.Status, del.ProviderMessageID, del.Reason = StatusSent, sentIDs[0], ""
	} else {
		del.Status, del.Reason = StatusFailed, lastReason
	}
	return d.final(del), nil
}

// Reasons of a delivery that did not go out.
const (
	reasonExhausted   = "retries_exhausted"    // failed: every attempt failed transiently, on the final delivery
	reasonUnavailable = "provider_unavailable" // in flight: attempts failed transiently, retried on redelivery
)

// sendOne sends one message with retries. reason is "" when it was sent,
// else "provider_rejected" (permanent) or "retries_exhausted".
func (d *Dispatcher) sendOne(ctx context.Context, s Sender, msg Message, del *Delivery) (id, reason string, err error) {
	for attempt := 1; ; attempt++ {
		del.Attempts++
		id, err := d.sendTraced(ctx, s, msg, attempt)
		switch {
		case err == nil:
			return id, "", nil
		case apperr.IsPermanent(err):
			return "", "provider_rejected", nil
		case attempt >= d.opts.MaxAttempts:
			return "", reasonExhausted, nil
		}
		if err := d.opts.Sleep(ctx, d.backoff(attempt)); err != nil {
			return "", "", err
		}
	}
}

// tracerName is the instrumentation scope of the provider-call spans.
const tracerName = "github.com/labchain/appointments/shared/notify"

// sendTraced is one provider call in its own client span "send <channel>"
// (ids and kinds only: no address, no content), so a trace shows every
// attempt, including senders that are not AWS SDK calls (SMTP, the sink).
func (d *Dispatcher) sendTraced(ctx context.Context, s Sender, msg Message, attempt int) (string, error) {
	ctx, span := otel.Tracer(tracerName).Start(ctx, "send "+string(msg.Channel), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("app.notification.kind", string(msg.Kind)),
			attribute.String("app.notification.channel", string(msg.Channel)),
			attribute.Int("app.notification.attempt", attempt)))
	defer span.End()
	id, err := s.Send(ctx, msg)
	if err != nil {
		kind := "transient"
		if apperr.IsPermanent(err) {
			kind = "permanent"
		}
		span.SetAttributes(attribute.String("error.type", kind))
		span.SetStatus(codes.Error, kind+" provider failure")
	}
	return id, err
}

// backoff is the wait after the n-th failed attempt: BaseBackoff·2ⁿ⁻¹ capped
// at MaxBackoff, of which a random half (equal jitter) so that throttled
// senders do not retry in lockstep.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.opts.BaseBackoff << (n - 1)
	if b > d.opts.MaxBackoff || b <= 0 {
		b = d.opts.MaxBackoff
	}
	half := b / 2
	return half + rand.N(half+1)
}

func (d *Dispatcher) final(del Delivery) Delivery {
	del.UpdatedAt = d.opts.Now().UTC()
	del.LeaseUntil = time.Time{}
	return del
}
