// Package metrics is the catalog of the CloudWatch metrics the project emits
// as Embedded Metric Format (EMF) log lines through lambdakit: their names,
// units, dimensions and the closed sets of dimension values, plus one typed
// emitter per business metric so that every emitter spells them alike.
// docs/metrics.md documents each metric and the alarm that uses it; a test
// keeps the two in step, and template checks can use Lookup to verify that an
// alarm names a metric and dimension set that exist.
//
// EMF lines are log lines: emitting costs no API call and cannot fail a
// request. Every metric carries the FunctionName dimension (lambdakit adds
// it). Dimension values are low-cardinality by construction: route names,
// consumer names and small enumerations, never paths, ids or personal data.
// What is descriptive but unbounded goes into the line's metadata instead
// (searchable in Logs Insights, never a dimension).
//
// The package imports only lambdakit, so any package that already logs
// through lambdakit can emit through it.
package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/lambdakit"
)

// Namespace is the CloudWatch namespace of every metric in the catalog.
const Namespace = lambdakit.Namespace

// Dimension names.
const (
	// DimFunctionName is the Lambda function name; lambdakit adds it to every
	// metric.
	DimFunctionName = lambdakit.DimensionFunctionName
	// DimRoute is an HTTP route's name (httpapi.Route.Name, such as
	// "BookAppointment"), never its path.
	DimRoute = "Route"
	// DimStatusClass is the class of an HTTP status: 2xx, 3xx, 4xx or 5xx.
	DimStatusClass = "StatusClass"
	// DimOperation is the appointment change a BookingOutcome counts.
	DimOperation = "Operation"
	// DimOutcome is how something ended; its values depend on the metric.
	DimOutcome = "Outcome"
	// DimConsumer is an SQS consumer's name (consumer.Options.Name).
	DimConsumer = "Consumer"
	// DimChannel is a notification channel (notify.Channel).
	DimChannel = "Channel"
)

// Metric names. The business metrics have typed emitters below; the others
// are emitted by lambdakit, httpapi and outbox with these names.
const (
	// Invocations counts invocations (lambdakit.Metrics); dimension
	// FunctionName.
	Invocations = "Invocations"
	// Errors counts invocations that returned an error (lambdakit.Metrics).
	Errors = "Errors"
	// Duration is an invocation's duration in milliseconds (lambdakit.Metrics).
	Duration = "Duration"
	// TraceExportFailed counts invocations whose span flush to the trace
	// collector failed or outlasted lambdakit.FlushTimeout (lambdakit.Tracing).
	TraceExportFailed = lambdakit.MetricTraceExportFailed
	// ServerErrors counts HTTP answers with a 5xx status (httpapi).
	ServerErrors = "ServerErrors"
	// APILatency is the time an HTTP route took to answer, in milliseconds,
	// per Route and StatusClass (httpapi).
	APILatency = "ApiLatency"
	// BookingOutcome counts the outcomes of booking, rescheduling and
	// cancelling appointments over HTTP, per Operation and Outcome (httpapi).
	BookingOutcome = "BookingOutcome"
	// MessagesProcessed counts the SQS records a consumer settled, per
	// Consumer and Outcome (consumer).
	MessagesProcessed = "MessagesProcessed"
	// CheckupParticipantOutcome counts check-up participants settled by the
	// check-up booking consumer, per Outcome (wiring).
	CheckupParticipantOutcome = "CheckupParticipantOutcome"
	// NotificationOutcome counts patient notifications per Channel and
	// Outcome (notify's dispatcher).
	NotificationOutcome = "NotificationOutcome"
	// OutboxPublished counts outbox events published (outbox.MetricPublished).
	OutboxPublished = "OutboxPublished"
	// OutboxPublishFailed counts outbox events not published
	// (outbox.MetricPublishFailed).
	OutboxPublishFailed = "OutboxPublishFailed"
	// OutboxMarkFailed counts published events not marked as published
	// (outbox.MetricMarkFailed).
	OutboxMarkFailed = "OutboxMarkFailed"
	// OutboxPublishLag is the age of the oldest event of a published batch in
	// milliseconds (outbox.MetricPublishLag).
	OutboxPublishLag = "OutboxPublishLag"
	// OutboxMalformed counts stream records that are not outbox events
	// (outbox.MetricMalformed).
	OutboxMalformed = "OutboxMalformed"
	// OutboxSwept counts unpublished events the sweep found (outbox.MetricSwept).
	OutboxSwept = "OutboxSwept"
	// OutboxParked counts outbox records the sweep gave up on
	// (outbox.MetricParked).
	OutboxParked = "OutboxParked"
)

// HTTP status classes, the values of DimStatusClass.
const (
	Status2xx = "2xx"
	Status3xx = "3xx"
	Status4xx = "4xx"
	Status5xx = "5xx"
)

// Operations, the values of BookingOutcome's DimOperation.
const (
	OperationBook       = "book"
	OperationReschedule = "reschedule"
	OperationCancel     = "cancel"
)

// Booking outcomes, the values of BookingOutcome's DimOutcome.
const (
	// BookingSuccess: the change was made (2xx).
	BookingSuccess = "success"
	// BookingConflict: the slot or the appointment's state is taken
	// (SLOT_UNAVAILABLE, CONFLICT, INVALID_TRANSITION): demand the clinic
	// could not serve, or a race lost.
	BookingConflict = "conflict"
	// BookingValidation: every other refusal of the request itself
	// (VALIDATION_FAILED, OUTSIDE_SCHEDULE, LIMIT_EXCEEDED, CANCEL_CUTOFF,
	// NOT_FOUND, IDEMPOTENCY_KEY_REUSED, PAYLOAD_TOO_LARGE).
	BookingValidation = "validation"
	// BookingError: a 5xx.
	BookingError = "error"
)

// Message outcomes, the values of MessagesProcessed's DimOutcome; they are the
// strings of consumer.Outcome.
const (
	MessageProcessed    = "processed"
	MessageDuplicate    = "duplicate"
	MessageRetried      = "retried"
	MessageDeadLettered = "dead_lettered"
	MessageHeld         = "held"
)

// Check-up participant outcomes, the values of CheckupParticipantOutcome's
// DimOutcome.
const (
	// ParticipantPlaced: the participant was booked.
	ParticipantPlaced = "placed"
	// ParticipantUnplaced: settled without a booking (no capacity, contact
	// data the booking refused); the reason is metadata.
	ParticipantUnplaced = "unplaced"
	// ParticipantFailed: the work item failed permanently and goes to the
	// dead-letter queue.
	ParticipantFailed = "failed"
)

// Notification channels, the values of DimChannel (notify.Channels).
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelPush  = "push"
)

// Notification outcomes, the values of NotificationOutcome's DimOutcome.
const (
	// NotificationSent: the provider accepted the message.
	NotificationSent = "sent"
	// NotificationFailed: the provider refused it or could not be reached.
	NotificationFailed = "failed"
	// NotificationSuppressed: not sent on purpose (already sent, the visit
	// changed meanwhile, no address for the channel).
	NotificationSuppressed = "suppressed"
	// NotificationOptedOut: the patient opted out of the channel.
	NotificationOptedOut = "opted_out"
)

// Metadata keys, written on the lines of the business metrics.
const (
	// MetaReason is why a check-up participant was left unplaced.
	MetaReason = "reason"
	// MetaKind is a notification's kind (notify.Kind).
	MetaKind = "kind"
)

// Definition describes one metric of the catalog.
type Definition struct {
	// Name is the metric name.
	Name string
	// Unit is the CloudWatch unit the metric is emitted with.
	Unit lambdakit.Unit
	// Dimensions is the metric's one dimension set, sorted; it always
	// includes DimFunctionName. An alarm must name exactly these.
	Dimensions []string
	// Values holds the allowed values of the dimensions that have a closed
	// set; the others (FunctionName, Route, Consumer) are open but bounded by
	// the deployment.
	Values map[string][]string
	// EmittedBy names the package that emits the metric.
	EmittedBy string
}

var (
	statusClasses   = []string{Status2xx, Status3xx, Status4xx, Status5xx}
	operations      = []string{OperationBook, OperationReschedule, OperationCancel}
	bookingOutcomes = []string{BookingSuccess, BookingConflict, BookingValidation, BookingError}
	messageOutcomes = []string{MessageProcessed, MessageDuplicate, MessageRetried, MessageDeadLettered, MessageHeld}
	participantOuts = []string{ParticipantPlaced, ParticipantUnplaced, ParticipantFailed}
	channels        = []string{ChannelSMS, ChannelEmail, ChannelPush}
	notifyOutcomes  = []string{NotificationSent, NotificationFailed, NotificationSuppressed, NotificationOptedOut}
)

// catalog is every metric the project emits, in docs/metrics.md's order.
var catalog = []Definition{
	{Name: BookingOutcome, Unit: lambdakit.UnitCount, Dimensions: dims(DimOperation, DimOutcome),
		Values: map[string][]string{DimOperation: operations, DimOutcome: bookingOutcomes}, EmittedBy: "shared/httpapi"},
	{Name: APILatency, Unit: lambdakit.UnitMilliseconds, Dimensions: dims(DimRoute, DimStatusClass),
		Values: map[string][]string{DimStatusClass: statusClasses}, EmittedBy: "shared/httpapi"},
	{Name: ServerErrors, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/httpapi"},
	{Name: MessagesProcessed, Unit: lambdakit.UnitCount, Dimensions: dims(DimConsumer, DimOutcome),
		Values: map[string][]string{DimOutcome: messageOutcomes}, EmittedBy: "shared/consumer"},
	{Name: CheckupParticipantOutcome, Unit: lambdakit.UnitCount, Dimensions: dims(DimOutcome),
		Values: map[string][]string{DimOutcome: participantOuts}, EmittedBy: "shared/wiring"},
	{Name: NotificationOutcome, Unit: lambdakit.UnitCount, Dimensions: dims(DimChannel, DimOutcome),
		Values: map[string][]string{DimChannel: channels, DimOutcome: notifyOutcomes}, EmittedBy: "shared/notify"},
	{Name: Invocations, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/lambdakit"},
	{Name: Errors, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/lambdakit"},
	{Name: Duration, Unit: lambdakit.UnitMilliseconds, Dimensions: dims(), EmittedBy: "shared/lambdakit"},
	{Name: TraceExportFailed, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/lambdakit"},
	{Name: OutboxPublished, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxPublishFailed, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxMarkFailed, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxPublishLag, Unit: lambdakit.UnitMilliseconds, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxMalformed, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxSwept, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
	{Name: OutboxParked, Unit: lambdakit.UnitCount, Dimensions: dims(), EmittedBy: "shared/outbox"},
}

// dims returns a sorted dimension set of names plus FunctionName.
func dims(names ...string) []string {
	out := append([]string{DimFunctionName}, names...)
	slices.Sort(out)
	return out
}

// Catalog returns every metric the project emits (a copy).
func Catalog() []Definition {
	out := make([]Definition, len(catalog))
	for i, d := range catalog {
		d.Dimensions = slices.Clone(d.Dimensions)
		vals := make(map[string][]string, len(d.Values))
		for k, v := range d.Values {
			vals[k] = slices.Clone(v)
		}
		d.Values = vals
		out[i] = d
	}
	return out
}

// Lookup returns the definition of the metric called name.
func Lookup(name string) (Definition, bool) {
	for _, d := range Catalog() {
		if d.Name == name {
			return d, true
		}
	}
	return Definition{}, false
}

// CheckDimensions reports whether names is exactly d's dimension set, in any
// order: what an alarm on d must name, since CloudWatch matches dimension
// sets exactly.
func (d Definition) CheckDimensions(names []string) error {
	got := slices.Clone(names)
	slices.Sort(got)
	if !slices.Equal(got, d.Dimensions) {
		return fmt.Errorf("metric %s: dimensions [%s], want [%s]", d.Name, strings.Join(got, " "), strings.Join(d.Dimensions, " "))
	}
	return nil
}

// Check reports whether a datapoint with this unit and these dimensions fits
// d: the same unit, exactly d's dimension set, a non-empty value for each and,
// where the set of values is closed, one of those.
func (d Definition) Check(unit lambdakit.Unit, dimensions map[string]string) error {
	if unit != d.Unit {
		return fmt.Errorf("metric %s: unit %q, want %q", d.Name, unit, d.Unit)
	}
	names := make([]string, 0, len(dimensions))
	for k := range dimensions {
		names = append(names, k)
	}
	if err := d.CheckDimensions(names); err != nil {
		return err
	}
	for k, v := range dimensions {
		if v == "" {
			return fmt.Errorf("metric %s: dimension %s is empty", d.Name, k)
		}
		if allowed, closed := d.Values[k]; closed && !slices.Contains(allowed, v) {
			return fmt.Errorf("metric %s: %s=%q is not one of %v", d.Name, k, v, allowed)
		}
	}
	return nil
}

// StatusClass returns the class of an HTTP status ("2xx" for 201); anything
// outside 200..599 is a server bug and counts as "5xx".
func StatusClass(status int) string {
	switch status / 100 {
	case 2:
		return Status2xx
	case 3:
		return Status3xx
	case 4:
		return Status4xx
	}
	return Status5xx
}

// EmitAPILatency records that route (an httpapi.Route.Name, never a path)
// answered with status after d.
func EmitAPILatency(ctx context.Context, route string, status int, d time.Duration) {
	lambdakit.EmitMetric(ctx, APILatency, lambdakit.UnitMilliseconds, float64(d)/float64(time.Millisecond),
		map[string]string{DimRoute: route, DimStatusClass: StatusClass(status)})
}

// EmitBookingOutcome counts one outcome (BookingSuccess, ...) of an operation
// (OperationBook, ...).
func EmitBookingOutcome(ctx context.Context, operation, outcome string) {
	lambdakit.EmitMetric(ctx, BookingOutcome, lambdakit.UnitCount, 1,
		map[string]string{DimOperation: operation, DimOutcome: outcome})
}

// EmitMessages counts n records of a consumer that ended with outcome
// (MessageProcessed, ...). Nothing is written for n ≤ 0, so that an alarm on
// missing MessageProcessed data means no message was processed.
func EmitMessages(ctx context.Context, consumer, outcome string, n int) {
	if n <= 0 {
		return
	}
	lambdakit.EmitMetric(ctx, MessagesProcessed, lambdakit.UnitCount, float64(n),
		map[string]string{DimConsumer: consumer, DimOutcome: outcome})
}

// EmitCheckupParticipant counts one check-up participant settled with outcome
// (ParticipantPlaced, ...); reason, if not empty, is the line's MetaReason
// metadata (domain.PlacementReason of an unplaced participant).
func EmitCheckupParticipant(ctx context.Context, outcome, reason string) {
	var meta map[string]any
	if reason != "" {
		meta = map[string]any{MetaReason: reason}
	}
	lambdakit.EmitMetricWithMetadata(ctx, CheckupParticipantOutcome, lambdakit.UnitCount, 1,
		map[string]string{DimOutcome: outcome}, meta)
}

// EmitNotificationOutcome counts one notification on channel (ChannelSMS, ...)
// that ended with outcome (NotificationSent, ...). kind, if not empty, is the
// line's MetaKind metadata: a kind is not a dimension, to keep the metric at
// channels × outcomes.
func EmitNotificationOutcome(ctx context.Context, channel, outcome, kind string) {
	var meta map[string]any
	if kind != "" {
		meta = map[string]any{MetaKind: kind}
	}
	lambdakit.EmitMetricWithMetadata(ctx, NotificationOutcome, lambdakit.UnitCount, 1,
		map[string]string{DimChannel: channel, DimOutcome: outcome}, meta)
}
