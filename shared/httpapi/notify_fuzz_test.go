package httpapi

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/notify"
)

// fuzzSvc's notification use cases accept everything; RegisterDevice keeps
// the token it got.
var fuzzToken string

func (*fuzzSvc) GetPreferences(context.Context, domain.Actor, string) (app.PreferencesView, error) {
	return app.PreferencesView{}, nil
}
func (*fuzzSvc) PutPreferences(_ context.Context, _ domain.Actor, _ string, p notify.Preferences) (app.PreferencesView, error) {
	return app.PreferencesView{Preferences: p}, nil
}
func (*fuzzSvc) RegisterDevice(_ context.Context, _ domain.Actor, _ string, token, _ string) (notify.Device, bool, error) {
	fuzzToken = token
	return notify.Device{}, true, nil
}
func (*fuzzSvc) UnregisterDevice(context.Context, domain.Actor, string, string) error { return nil }
func (*fuzzSvc) Deliveries(context.Context, domain.Actor, string) ([]notify.Delivery, error) {
	return nil, nil
}

func FuzzDecodePreferences(f *testing.F) {
	f.Add(`{"sms":true,"email":false,"push":true}`, false)
	fuzzBody(f, "put-notification-preferences.json", func(s UseCases) Route {
		return PutNotificationPreferences(s.(NotificationUseCases))
	}, nil)
}

func FuzzDecodeDevice(f *testing.F) {
	fuzzBody(f, "register-device.json", func(s UseCases) Route { return RegisterDevice(s.(NotificationUseCases)) }, nil)
}

// FuzzDeviceTokenPath: any path segment either is refused as
// VALIDATION_FAILED or reaches the use case trimmed (as every path
// parameter) and percent-decoded.
func FuzzDeviceTokenPath(f *testing.F) {
	ev := sharedEvent(f, "register-device.json")
	for _, s := range []string{ev.PathParameters["token"], "", "%", "%zz", "a%2Fb", "..%2F..", "tok%00en", "ก%E0%B8%81", "%3A%3A%3A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e := ev
		e.PathParameters = map[string]string{"patientId": "pat_1", "token": raw}
		e.Body = ""
		fuzzToken = "\x00unset"
		rt := RegisterDevice(&fuzzSvc{})
		_, err := rt.Handle(context.Background(), &Request{Event: &e, Actor: domain.Actor{ID: "u", Role: domain.RolePatient, PatientID: "pat_1"}})
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		want, uerr := url.PathUnescape(strings.TrimSpace(raw))
		if uerr != nil || fuzzToken != want {
			t.Fatalf("path %q reached the use case as %q (want %q, %v)", raw, fuzzToken, want, uerr)
		}
	})
}
