package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/wiring/notifications"
)

func TestNotifyOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	opts, err := notifications.NotifyOptionsFromEnv(env(map[string]string{"NOTIFY_MAX_ATTEMPTS": "6", "NOTIFY_BASE_BACKOFF_MS": "250", "NOTIFY_FINAL_RECEIVE": "2"}))
	if err != nil || opts.MaxAttempts != 6 || opts.BaseBackoff != 250*time.Millisecond || opts.FinalReceive != 2 || opts.Observe == nil ||
		opts.Quiet.QuietStart != "21:00" || opts.Quiet.QuietEnd != "07:00" {
		t.Fatalf("%+v %v", opts, err)
	}
	_, err = notifications.NotifyOptionsFromEnv(env(map[string]string{"NOTIFY_MAX_ATTEMPTS": "0", "NOTIFY_BASE_BACKOFF_MS": "x", "NOTIFY_FINAL_RECEIVE": "5", "QUIET_HOURS": "late"}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, name := range []string{"NOTIFY_MAX_ATTEMPTS", "NOTIFY_BASE_BACKOFF_MS", "NOTIFY_FINAL_RECEIVE", "QUIET_HOURS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if opts, err := notifications.NotifyOptionsFromEnv(env(nil)); err != nil || opts.MaxAttempts != 0 || opts.FinalReceive != 0 {
		t.Fatalf("defaults: %+v %v", opts, err) // zero: the dispatcher's defaults apply
	}
}

// countingSender accepts every message.
type countingSender struct{ n int }

func (s *countingSender) Send(context.Context, notify.Message) (string, error) {
	s.n++
	return fmt.Sprintf("sms-%d", s.n), nil
}
