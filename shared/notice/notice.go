// Package notice is the patient-communication model that use cases,
// stores and the HTTP layer share: message kinds, channels, preferences,
// devices and the delivery log. It is stdlib only, so that they do not link
// the templates and the dispatcher of package notify (which re-exports these
// names).
package notice

import (
	"strings"
	"time"
)

// Kind is a type of patient message.
type Kind string

// Message kinds. Each has a template per locale.
const (
	KindConfirmation        Kind = "confirmation"         // a visit was booked
	KindReschedule          Kind = "reschedule"           // a visit moved
	KindCancellation        Kind = "cancellation"         // a visit was cancelled
	KindReminder            Kind = "reminder"             // a visit is coming (24 h, 2 h before)
	KindPaymentConfirmation Kind = "payment_confirmation" // an order of the visit was paid
	KindRecollectionNeeded  Kind = "recollection_needed"  // a sample must be taken again
	KindResultsReady        Kind = "results_ready"        // lab results are ready
	KindCheckupInvitation   Kind = "checkup_invitation"   // a corporate check-up visit was booked for the patient
)

// Kinds returns every kind, in a fixed order (template tests range over it).
func Kinds() []Kind {
	return []Kind{KindConfirmation, KindReschedule, KindCancellation, KindReminder,
		KindPaymentConfirmation, KindRecollectionNeeded, KindResultsReady, KindCheckupInvitation}
}

// Channel is a way to reach a patient.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelPush  Channel = "push"
)

// Channels returns every channel, in a fixed order.
func Channels() []Channel { return []Channel{ChannelSMS, ChannelEmail, ChannelPush} }

// Preferences are a patient's channel choices. A patient who never chose has
// DefaultPreferences: SMS and email (each only when the appointment has the
// phone number or address) and push (only when a device is registered).
type Preferences struct {
	SMS   bool `json:"sms"`
	Email bool `json:"email"`
	Push  bool `json:"push"`
}

// DefaultPreferences are the preferences of a patient who never chose.
func DefaultPreferences() Preferences { return Preferences{SMS: true, Email: true, Push: true} }

// Allows reports whether the patient wants messages on ch.
func (p Preferences) Allows(ch Channel) bool {
	switch ch {
	case ChannelSMS:
		return p.SMS
	case ChannelEmail:
		return p.Email
	case ChannelPush:
		return p.Push
	}
	return false
}

// Device is a registered push device of a patient.
type Device struct {
	// Token is the FCM registration token or APNs device token. Personal
	// data: never logged, never returned by the API in full.
	Token        string    `json:"-"`
	Platform     string    `json:"platform"`
	RegisteredAt time.Time `json:"registeredAt"`
}

// Device platforms.
const (
	PlatformFCM  = "fcm"
	PlatformAPNS = "apns"
)

// MaxDevicesPerPatient bounds a patient's registered devices; registering
// one more replaces the oldest.
const MaxDevicesPerPatient = 10

// MaxTokenLength bounds a device token (FCM tokens are ~160 characters).
const MaxTokenLength = 512

// ValidToken reports whether s looks like a device token: 16..MaxTokenLength
// of [A-Za-z0-9:_.-] (FCM registration tokens and hex APNs tokens).
func ValidToken(s string) bool {
	if len(s) < 16 || len(s) > MaxTokenLength {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":_.-", r)) {
			return false
		}
	}
	return true
}

// Profile is what the dispatcher needs to know about a patient: their
// preferences (Set is false when they never chose) and devices.
type Profile struct {
	PatientID   string
	Preferences Preferences
	Set         bool
	UpdatedAt   time.Time
	Devices     []Device
}

// Status is the outcome of one delivery.
type Status string

// Delivery statuses. Sending is the in-flight state of a claimed delivery;
// the others are final.
const (
	StatusSending    Status = "sending"
	StatusSent       Status = "sent"
	StatusFailed     Status = "failed"
	StatusSuppressed Status = "suppressed" // the visit was cancelled or moved since the job was made
	StatusOptedOut   Status = "opted_out"  // the patient turned the channel off
)

// Final reports whether s is a final status.
func (s Status) Final() bool { return s != StatusSending && s != "" }

// Delivery is one (appointment, kind, channel) message of one job: the
// delivery log entry. It holds no message body and no contact detail.
type Delivery struct {
	AppointmentID string `json:"-"`
	// JobID is the id of the event the message was made for; with the
	// channel it identifies the delivery.
	JobID             string  `json:"jobId"`
	Kind              Kind    `json:"kind"`
	Channel           Channel `json:"channel"`
	Status            Status  `json:"status"`
	Attempts          int     `json:"attempts"`
	ProviderMessageID string  `json:"providerMessageId,omitempty"`
	// Reason says why a delivery failed or was suppressed, as a fixed code
	// (such as "cancelled", "moved", "provider_rejected", "retries_exhausted").
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LeaseUntil is how long a Sending claim blocks other deliveries of the
	// job; after it a retry may take the delivery over.
	LeaseUntil time.Time `json:"-"`
}
