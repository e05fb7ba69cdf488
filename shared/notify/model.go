package notify

import "github.com/labchain/appointments/shared/notice"

// The model is package notice (stdlib only, shared with the use cases and
// the stores); these names keep notify's vocabulary whole for its callers.
type (
	// Kind is a type of patient message (notice.Kind).
	Kind = notice.Kind
	// Channel is a way to reach a patient (notice.Channel).
	Channel = notice.Channel
	// Preferences are a patient's channel choices (notice.Preferences).
	Preferences = notice.Preferences
	// Device is a registered push device of a patient (notice.Device).
	Device = notice.Device
	// Profile is what the dispatcher knows about a patient (notice.Profile).
	Profile = notice.Profile
	// Status is the outcome of one delivery (notice.Status).
	Status = notice.Status
	// Delivery is one delivery log entry (notice.Delivery).
	Delivery = notice.Delivery
)

// Message kinds (see notice).
const (
	KindConfirmation        = notice.KindConfirmation
	KindReschedule          = notice.KindReschedule
	KindCancellation        = notice.KindCancellation
	KindReminder            = notice.KindReminder
	KindPaymentConfirmation = notice.KindPaymentConfirmation
	KindRecollectionNeeded  = notice.KindRecollectionNeeded
	KindResultsReady        = notice.KindResultsReady
	KindCheckupInvitation   = notice.KindCheckupInvitation
)

// Channels (see notice).
const (
	ChannelSMS   = notice.ChannelSMS
	ChannelEmail = notice.ChannelEmail
	ChannelPush  = notice.ChannelPush
)

// Delivery statuses (see notice).
const (
	StatusSending    = notice.StatusSending
	StatusSent       = notice.StatusSent
	StatusFailed     = notice.StatusFailed
	StatusSuppressed = notice.StatusSuppressed
	StatusOptedOut   = notice.StatusOptedOut
)

// Device platforms and limits (see notice).
const (
	PlatformFCM          = notice.PlatformFCM
	PlatformAPNS         = notice.PlatformAPNS
	MaxDevicesPerPatient = notice.MaxDevicesPerPatient
	MaxTokenLength       = notice.MaxTokenLength
)

// Kinds returns every kind, in a fixed order (notice.Kinds).
func Kinds() []Kind { return notice.Kinds() }

// Channels returns every channel, in a fixed order (notice.Channels).
func Channels() []Channel { return notice.Channels() }

// DefaultPreferences are the preferences of a patient who never chose.
func DefaultPreferences() Preferences { return notice.DefaultPreferences() }

// ValidToken reports whether s looks like a device token (notice.ValidToken).
func ValidToken(s string) bool { return notice.ValidToken(s) }
