package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/notify"
)

// The notification use cases make fakeSvc a NotificationUseCases, so the
// registry serves those routes with it (TestSharedEventsAreServed).

func (f *fakeSvc) GetPreferences(_ context.Context, a domain.Actor, patientID string) (app.PreferencesView, error) {
	f.record("GetPreferences", a, patientID)
	return app.PreferencesView{Preferences: notify.DefaultPreferences(), Default: true}, f.err
}

func (f *fakeSvc) PutPreferences(_ context.Context, a domain.Actor, patientID string, p notify.Preferences) (app.PreferencesView, error) {
	f.record("PutPreferences", a, patientID, p)
	return app.PreferencesView{Preferences: p}, f.err
}

func (f *fakeSvc) RegisterDevice(_ context.Context, a domain.Actor, patientID, token, platform string) (notify.Device, bool, error) {
	f.record("RegisterDevice", a, patientID, token, platform)
	return notify.Device{Token: token, Platform: "fcm", RegisteredAt: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}, true, f.err
}

func (f *fakeSvc) UnregisterDevice(_ context.Context, a domain.Actor, patientID, token string) error {
	f.record("UnregisterDevice", a, patientID, token)
	return f.err
}

func (f *fakeSvc) Deliveries(_ context.Context, a domain.Actor, id string) ([]notify.Delivery, error) {
	f.record("Deliveries", a, id)
	return nil, f.err
}

func TestNotificationRoutes(t *testing.T) {
	tests := []struct {
		route  func(NotificationUseCases) Route
		path   map[string]string
		body   string
		status int
		method string
		args   []any
		shape  string
	}{
		{GetNotificationPreferences, map[string]string{"patientId": "pat_1"}, "", 200, "GetPreferences", []any{"pat_1"},
			`^\{"sms":true,"email":true,"push":true,"default":true,"devices":0\}$`},
		{PutNotificationPreferences, map[string]string{"patientId": "pat_1"}, `{"sms":false,"email":true,"push":false}`, 200,
			"PutPreferences", []any{"pat_1", notify.Preferences{Email: true}}, `"sms":false,"email":true,"push":false`},
		// The token arrives percent-encoded in the path: the use case gets it decoded.
		{RegisterDevice, map[string]string{"patientId": "pat_1", "token": "abc%3AAPA91b-0123456789"}, `{"platform":"fcm"}`, 200,
			"RegisterDevice", []any{"pat_1", "abc:APA91b-0123456789", "fcm"}, `^\{"platform":"fcm","registeredAt":"2026-12-01T03:00:00Z","created":true\}$`},
		{RegisterDevice, map[string]string{"patientId": "pat_1", "token": "abc%3AAPA91b-0123456789"}, "", 200,
			"RegisterDevice", []any{"pat_1", "abc:APA91b-0123456789", ""}, `"created":true`},
		{UnregisterDevice, map[string]string{"patientId": "pat_1", "token": "abc%3AAPA91b-0123456789"}, "", 200,
			"UnregisterDevice", []any{"pat_1", "abc:APA91b-0123456789"}, `^\{"removed":true\}$`},
		{ListAppointmentNotifications, map[string]string{"id": "apt_1"}, "", 200, "Deliveries", []any{"apt_1"}, `^\{"items":\[\]\}$`},
	}
	for _, tt := range tests {
		svc := &fakeSvc{}
		rt := tt.route(svc)
		t.Run(rt.Name, func(t *testing.T) {
			h := newHarness()
			resp := h.serve(t, rt, adminEvent(t, rt, tt.path, nil, tt.body))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			c := svc.last()
			if c.method != tt.method || len(c.args) != len(tt.args) {
				t.Fatalf("call %+v, want %s%v", c, tt.method, tt.args)
			}
			for i := range tt.args {
				if c.args[i] != tt.args[i] {
					t.Errorf("arg %d = %#v, want %#v", i, c.args[i], tt.args[i])
				}
			}
			if !regexp.MustCompile(tt.shape).MatchString(resp.Body) {
				t.Errorf("body %s does not match %s", resp.Body, tt.shape)
			}
			if strings.Contains(resp.Body, "APA91b") {
				t.Errorf("the device token is echoed: %s", resp.Body)
			}
		})
	}
}

func TestPreferencesNeedEveryChannel(t *testing.T) {
	for _, body := range []string{`{"sms":true}`, `{"sms":true,"email":true}`, `{}`, `{"sms":true,"email":true,"push":true,"line":true}`, `{"sms":"yes","email":true,"push":true}`} {
		svc := &fakeSvc{}
		rt := PutNotificationPreferences(svc)
		resp := newHarness().serve(t, rt, adminEvent(t, rt, map[string]string{"patientId": "pat_1"}, nil, body))
		expectError(t, resp, http.StatusBadRequest, "VALIDATION_FAILED")
		if len(svc.calls) != 0 {
			t.Errorf("%s: the use case was called", body)
		}
	}
	// A token with a bad escape is refused before the use case.
	svc := &fakeSvc{}
	rt := RegisterDevice(svc)
	resp := newHarness().serve(t, rt, adminEvent(t, rt, map[string]string{"patientId": "pat_1", "token": "abc%ZZdef"}, nil, ""))
	expectError(t, resp, http.StatusBadRequest, "VALIDATION_FAILED")
	if len(svc.calls) != 0 {
		t.Error("the use case was called")
	}
}
