// Package notify is patient communication: which messages exist (Kind), on
// which channels they go (Channel), how they are rendered from templates
// kept as files (templates/<kind>.<locale>.tmpl), and the dispatcher that
// sends each (appointment, kind, channel) at most once through a Sender per
// channel. It has no AWS imports: the production senders (SES v2, SNS) and
// the local ones (SMTP to Mailpit, the local platform's sink) live in
// notify/providers.
package notify

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// Locales are the template locales; DefaultLocale is used for a patient
// without a locale or with one there is no template for.
var Locales = []string{"th", "en"}

// DefaultLocale is the chain's language.
const DefaultLocale = "th"

// Data is what a template may show. It is built from the appointment as it
// is now (not as it was when the job was made), its branch and service.
type Data struct {
	Kind          Kind
	Locale        string // "th" or "en" (see Locales)
	AppointmentID string
	PatientName   string
	ServiceName   string
	BranchName    string
	BranchAddress string
	// Start and End are in the branch's time zone (Location).
	Start, End time.Time
	Location   *time.Location
	// Preparation is the service's preparation (fasting hours, instructions
	// per locale).
	Preparation domain.Preparation
	// LeadTime is how long before Start a reminder is meant to arrive (24 h,
	// 2 h); zero for other kinds.
	LeadTime time.Duration
	// Amount and Currency are the paid amount of a payment confirmation
	// ("1250.00", "THB"); empty otherwise.
	Amount, Currency string
}

// Content is a rendered message for one channel: Subject is an email's
// subject or a push notification's title (empty for SMS); Text is the SMS
// text, the email's plain-text body or the push body; HTML is the email's
// HTML body (empty for other channels).
type Content struct {
	Subject string
	Text    string
	HTML    string
}

// Message is one message to send.
type Message struct {
	Channel Channel
	Kind    Kind
	// To is an E.164 phone number (sms), an email address (email) or a
	// device token (push). Personal data: never logged.
	To      string
	Content Content
	// Key identifies the delivery (appointment, kind, channel, job); senders
	// that support provider-side idempotency pass it on.
	Key string
}

// Sender delivers messages on one channel. Send returns the provider's
// message id. An error apperr.Classify finds permanent (marked with
// apperr.MarkPermanent: invalid number, rejected address, unregistered
// device) is recorded as failed and never retried; any other error
// (throttling, 5xx, network) is retried with backoff.
type Sender interface {
	Send(ctx context.Context, m Message) (providerID string, err error)
}
