package app

import (
	"context"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/notice"
)

// NotificationStore keeps patients' channel preferences, push devices and
// the delivery log (the DynamoDB store implements it).
type NotificationStore interface {
	GetProfile(ctx context.Context, patientID string) (notice.Profile, error)
	PutPreferences(ctx context.Context, patientID string, p notice.Preferences, at time.Time) error
	PutDevice(ctx context.Context, patientID string, d notice.Device) (created bool, err error)
	RemoveDevice(ctx context.Context, patientID, token string) error
	ListDeliveries(ctx context.Context, appointmentID string) ([]notice.Delivery, error)
}

// Notifications are the patient-communication use cases of the API: a
// patient's own channel preferences and push devices, and an appointment's
// delivery log.
type Notifications struct {
	svc   *Service
	store NotificationStore
}

// NewNotifications returns the use cases; svc provides the clock and the
// appointment visibility rules.
func NewNotifications(svc *Service, store NotificationStore) *Notifications {
	return &Notifications{svc: svc, store: store}
}

// PreferencesView is a patient's preferences as the API shows them: Default
// is true while the patient has never chosen (the defaults apply).
type PreferencesView struct {
	notice.Preferences
	Default   bool       `json:"default"`
	Devices   int        `json:"devices"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// selfOnly lets a patient act on their own patient record only. Another
// patient's record does not exist for them (404); staff and admins may not
// choose a patient's channels for them (403).
func selfOnly(a domain.Actor, patientID string) error {
	if err := authenticated(a); err != nil {
		return err
	}
	if a.Role != domain.RolePatient {
		return apperr.E(apperr.Forbidden, "only the patient may manage their notification settings")
	}
	if !validID(patientID) || patientID != a.PatientID {
		return notFound("patient", patientID)
	}
	return nil
}

// GetPreferences returns the caller's own preferences.
func (n *Notifications) GetPreferences(ctx context.Context, actor domain.Actor, patientID string) (PreferencesView, error) {
	if err := selfOnly(actor, patientID); err != nil {
		return PreferencesView{}, err
	}
	p, err := n.store.GetProfile(ctx, patientID)
	if err != nil {
		return PreferencesView{}, err
	}
	return view(p), nil
}

func view(p notice.Profile) PreferencesView {
	v := PreferencesView{Preferences: p.Preferences, Default: !p.Set, Devices: len(p.Devices)}
	if !p.Set {
		v.Preferences = notice.DefaultPreferences()
	} else {
		at := p.UpdatedAt
		v.UpdatedAt = &at
	}
	return v
}

// PutPreferences replaces the caller's own preferences (every channel is
// given: turning one off is an opt-out of that channel).
func (n *Notifications) PutPreferences(ctx context.Context, actor domain.Actor, patientID string, p notice.Preferences) (PreferencesView, error) {
	if err := selfOnly(actor, patientID); err != nil {
		return PreferencesView{}, err
	}
	if err := n.store.PutPreferences(ctx, patientID, p, n.svc.clock()); err != nil {
		return PreferencesView{}, err
	}
	return n.GetPreferences(ctx, actor, patientID)
}

// RegisterDevice registers a push device token of the caller (PUT is
// idempotent: re-registering keeps one device) and reports whether it is
// new. platform is "fcm" (default) or "apns".
func (n *Notifications) RegisterDevice(ctx context.Context, actor domain.Actor, patientID, token, platform string) (notice.Device, bool, error) {
	if err := selfOnly(actor, patientID); err != nil {
		return notice.Device{}, false, err
	}
	if !notice.ValidToken(token) {
		return notice.Device{}, false, apperr.E(apperr.Validation, "token: must be 16..%d characters of letters, digits and : _ . -", notice.MaxTokenLength)
	}
	switch platform = strings.ToLower(strings.TrimSpace(platform)); platform {
	case "":
		platform = notice.PlatformFCM
	case notice.PlatformFCM, notice.PlatformAPNS:
	default:
		return notice.Device{}, false, apperr.E(apperr.Validation, "platform: must be fcm or apns")
	}
	d := notice.Device{Token: token, Platform: platform, RegisteredAt: n.svc.clock()}
	created, err := n.store.PutDevice(ctx, patientID, d)
	if err != nil {
		return notice.Device{}, false, err
	}
	return d, created, nil
}

// UnregisterDevice removes a push device of the caller; an unknown token is
// not an error.
func (n *Notifications) UnregisterDevice(ctx context.Context, actor domain.Actor, patientID, token string) error {
	if err := selfOnly(actor, patientID); err != nil {
		return err
	}
	if !notice.ValidToken(token) {
		return apperr.E(apperr.Validation, "token: must be 16..%d characters of letters, digits and : _ . -", notice.MaxTokenLength)
	}
	return n.store.RemoveDevice(ctx, patientID, token)
}

// Deliveries returns an appointment's delivery log to whoever may see the
// appointment (its patient, staff of its branch, admins; others get 404).
func (n *Notifications) Deliveries(ctx context.Context, actor domain.Actor, appointmentID string) ([]notice.Delivery, error) {
	if _, err := n.svc.GetAppointment(ctx, actor, appointmentID); err != nil {
		return nil, err
	}
	return n.store.ListDeliveries(ctx, appointmentID)
}
