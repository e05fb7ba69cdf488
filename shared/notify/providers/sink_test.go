package providers

import (
	"context"
	"encoding/json"
	"github.com/labchain/appointments/shared/apperr"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labchain/appointments/shared/notify"
)

func TestSink(t *testing.T) {
	var got map[string]string
	status := http.StatusCreated
	okBody := `{"id":"m-7"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with content type %q", r.Method, r.Header.Get("Content-Type"))
		}
		got = nil
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.WriteHeader(status)
		if status < 300 {
			_, _ = w.Write([]byte(okBody))
		} else {
			_, _ = w.Write([]byte(`{"message":"no"}`))
		}
	}))
	defer srv.Close()
	s := &Sink{URL: srv.URL}
	m := notify.Message{Channel: notify.ChannelSMS, Kind: notify.KindReminder, To: "+66812345678",
		Content: notify.Content{Subject: "", Text: "พรุ่งนี้ 08:00", HTML: "<p>not sent</p>"}, Key: "k-1"}
	id, err := s.Send(context.Background(), m)
	if err != nil || id != "m-7" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	want := map[string]string{"channel": "sms", "kind": "reminder", "to": "+66812345678", "subject": "", "text": "พรุ่งนี้ 08:00", "key": "k-1"}
	if len(got) != len(want) {
		t.Errorf("body = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{400, true}, {404, true}, {422, true}, {429, false}, {500, false}, {503, false},
	} {
		status = tc.status
		_, err := s.Send(context.Background(), m)
		if err == nil || apperr.IsPermanent(err) != tc.permanent {
			t.Errorf("status %d: %v, want permanent=%v", tc.status, err, tc.permanent)
		}
	}
	status, okBody = http.StatusOK, `{}`
	if _, err := s.Send(context.Background(), m); err == nil || apperr.IsPermanent(err) {
		t.Errorf("a 200 without an id: %v, want a transient error", err)
	}

	srv.Close()
	if _, err := s.Send(context.Background(), m); err == nil || apperr.IsPermanent(err) {
		t.Errorf("server down: %v, want a transient error", err)
	}
}
