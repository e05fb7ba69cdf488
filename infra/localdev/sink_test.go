package localdev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labchain/appointments/shared/apperr"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/notify/providers"
)

// Unit tests of the message sink and the messaging parameters: no
// processes, they run with -short too.

// sinkServer serves a fresh sink under /_local as the gateway does.
func sinkServer(t *testing.T) (*messageSink, string) {
	t.Helper()
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	s := newMessageSink(func() time.Time { at = at.Add(time.Second); return at })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.serve(w, r, strings.TrimPrefix(r.URL.Path, localPrefix)) {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		}
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + localPrefix
}

// sinkDo sends a request and decodes the JSON answer into out (if not nil).
func sinkDo(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: content type %q", method, url, resp.Header.Get("Content-Type"))
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, buf.String())
		}
	}
	return resp.StatusCode
}

type sinkList struct {
	Items []SinkMessage `json:"items"`
}

func TestSinkMessages(t *testing.T) {
	_, base := sinkServer(t)
	post := func(body string) (int, SinkMessage) {
		var m SinkMessage
		status := sinkDo(t, http.MethodPost, base+"/messages", body, &m)
		return status, m
	}
	status, m := post(`{"channel":"sms","kind":"reminder","to":"+66812345678","subject":"","text":"พรุ่งนี้ 08:00","key":"a1#reminder#sms"}`)
	if status != http.StatusCreated || m.ID != "msg-1" || m.Channel != "sms" || m.Kind != "reminder" || m.To != "+66812345678" ||
		m.Text != "พรุ่งนี้ 08:00" || m.Key != "a1#reminder#sms" || m.Attempts != 1 || m.ReceivedAt.IsZero() {
		t.Fatalf("POST = %d %+v", status, m)
	}
	post(`{"channel":"push","kind":"results_ready","to":"device-1","subject":"ผลตรวจ","text":"พร้อมแล้ว","key":"a1#results_ready#push"}`)
	post(`{"channel":"sms","kind":"confirmation","to":"+66899999999","text":"จองแล้ว","key":"a2#confirmation#sms"}`)
	post(`{"channel":"sms","kind":"reminder","to":"+66812345678","text":"again","key":"a1#reminder#sms"}`)

	for _, tc := range []struct {
		query string
		ids   []string
	}{
		{"", []string{"msg-1", "msg-2", "msg-3", "msg-4"}},
		{"?channel=sms", []string{"msg-1", "msg-3", "msg-4"}},
		{"?channel=push", []string{"msg-2"}},
		{"?to=%2B66812345678", []string{"msg-1", "msg-4"}},
		{"?channel=sms&to=%2B66899999999", []string{"msg-3"}},
		{"?channel=email", nil},
		{"?key=a1%23reminder%23sms", []string{"msg-1", "msg-4"}},
	} {
		var l sinkList
		if status := sinkDo(t, http.MethodGet, base+"/messages"+tc.query, "", &l); status != http.StatusOK {
			t.Fatalf("GET %s: %d", tc.query, status)
		}
		var ids []string
		for _, m := range l.Items {
			ids = append(ids, m.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
			t.Errorf("GET %s = %v, want %v", tc.query, ids, tc.ids)
		}
		if l.Items == nil {
			t.Errorf("GET %s: items is null, want []", tc.query)
		}
	}
	var l sinkList
	sinkDo(t, http.MethodGet, base+"/messages?key=a1%23reminder%23sms", "", &l)
	if len(l.Items) != 2 || l.Items[1].Attempts != 2 || !l.Items[0].ReceivedAt.Before(l.Items[1].ReceivedAt) {
		t.Errorf("the same key twice: %+v", l.Items)
	}

	for _, bad := range []string{`{"channel":"fax","to":"x"}`, `{"channel":"sms","to":" "}`, `{"channel":"sms"}`, `not json`} {
		if status, _ := post(bad); status != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, status)
		}
	}
	if status := sinkDo(t, http.MethodPut, base+"/messages", "{}", nil); status != http.StatusMethodNotAllowed {
		t.Errorf("PUT = %d", status)
	}
	var del struct{ Deleted int }
	if status := sinkDo(t, http.MethodDelete, base+"/messages", "", &del); status != http.StatusOK || del.Deleted != 4 {
		t.Errorf("DELETE = %d %+v", status, del)
	}
	sinkDo(t, http.MethodGet, base+"/messages", "", &l)
	if len(l.Items) != 0 {
		t.Errorf("after DELETE: %d messages", len(l.Items))
	}
	if _, m := post(`{"channel":"sms","to":"+66812345678","key":"a1#reminder#sms"}`); m.Attempts != 1 {
		t.Errorf("DELETE must reset the attempt counts: attempts = %d", m.Attempts)
	}
}

func TestSinkFaults(t *testing.T) {
	_, base := sinkServer(t)
	send := func(to, key string) int {
		return sinkDo(t, http.MethodPost, base+"/messages", `{"channel":"sms","to":"`+to+`","text":"x","key":"`+key+`"}`, nil)
	}
	var f SinkFault
	if status := sinkDo(t, http.MethodPost, base+"/faults", `{"channel":"sms","to":"+66812345678","status":503,"count":3}`, &f); status != http.StatusCreated ||
		f.ID != "fault-1" || f.Remaining != 3 || f.Status != 503 {
		t.Fatalf("POST /faults = %d %+v", status, f)
	}
	for i := 1; i <= 3; i++ {
		if status := send("+66812345678", "k1"); status != 503 {
			t.Fatalf("send %d = %d, want 503", i, status)
		}
		if status := send("+66899999999", fmt.Sprint("other-", i)); status != http.StatusCreated {
			t.Errorf("another address during the fault = %d, want 201", status)
		}
	}
	var m SinkMessage
	if status := sinkDo(t, http.MethodPost, base+"/messages", `{"channel":"sms","to":"+66812345678","text":"x","key":"k1"}`, &m); status != http.StatusCreated || m.Attempts != 4 {
		t.Fatalf("the 4th send = %d %+v, want 201 with attempts 4", status, m)
	}
	var l sinkList
	sinkDo(t, http.MethodGet, base+"/messages?to=%2B66812345678", "", &l)
	if len(l.Items) != 1 {
		t.Errorf("refused sends were stored: %+v", l.Items)
	}
	var faults struct {
		Items    []SinkFault `json:"items"`
		Rejected int         `json:"rejected"`
	}
	sinkDo(t, http.MethodGet, base+"/faults", "", &faults)
	if faults.Rejected != 3 || len(faults.Items) != 1 || faults.Items[0].Hits != 3 || faults.Items[0].Remaining != 0 {
		t.Errorf("GET /faults = %+v", faults)
	}

	// count 0: until cleared, any address of the channel; other channels pass.
	sinkDo(t, http.MethodPost, base+"/faults", `{"channel":"sms","status":429,"count":0}`, &f)
	if f.Remaining != -1 {
		t.Errorf("an open-ended fault: %+v", f)
	}
	for i := 0; i < 5; i++ {
		if status := send(fmt.Sprint("+6680000000", i), ""); status != 429 {
			t.Fatalf("open-ended fault, send %d = %d", i, status)
		}
	}
	if status := sinkDo(t, http.MethodPost, base+"/messages", `{"channel":"push","to":"device-1","text":"x"}`, nil); status != http.StatusCreated {
		t.Errorf("push during an sms fault = %d", status)
	}
	var del struct{ Deleted int }
	if status := sinkDo(t, http.MethodDelete, base+"/faults", "", &del); status != http.StatusOK || del.Deleted != 2 {
		t.Errorf("DELETE /faults = %d %+v", status, del)
	}
	if status := send("+66800000000", ""); status != http.StatusCreated {
		t.Errorf("after DELETE /faults = %d", status)
	}
	sinkDo(t, http.MethodGet, base+"/faults", "", &faults)
	if faults.Rejected != 0 || len(faults.Items) != 0 {
		t.Errorf("after DELETE /faults: %+v", faults)
	}

	for _, bad := range []string{`{"status":200}`, `{"status":600}`, `{"status":503,"count":-2}`, `{"channel":"fax","status":503}`, `[]`} {
		if status := sinkDo(t, http.MethodPost, base+"/faults", bad, nil); status != http.StatusBadRequest {
			t.Errorf("POST /faults %s = %d, want 400", bad, status)
		}
	}
}

// TestSinkWithTheSender checks the sink against the sender the functions use:
// the ids it answers and how the sender classifies injected faults.
func TestSinkWithTheSender(t *testing.T) {
	sink, base := sinkServer(t)
	sender := &providers.Sink{URL: base + "/messages"}
	ctx := context.Background()
	m := notify.Message{Channel: notify.ChannelSMS, Kind: notify.KindReminder, To: "+66812345678", Content: notify.Content{Text: "พรุ่งนี้"}, Key: "k"}
	id, err := sender.Send(ctx, m)
	if err != nil || id != "msg-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{503, false}, {429, false}, {500, false}, {400, true}, {404, true}} {
		if _, err := sink.addFault(SinkFault{To: m.To, Status: tc.status, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := sender.Send(ctx, m)
		if err == nil || apperr.IsPermanent(err) != tc.permanent {
			t.Errorf("fault %d: %v, want permanent=%v", tc.status, err, tc.permanent)
		}
	}
	bad := m
	bad.Channel = "fax"
	if _, err := sender.Send(ctx, bad); !apperr.IsPermanent(err) {
		t.Errorf("a message the sink refuses as invalid: %v, want permanent", err)
	}
	if got := sink.list(SinkFilter{Key: "k"}); len(got) != 1 || got[0].Attempts != 1 {
		t.Errorf("stored = %+v", got)
	}
}

func TestMessagingParams(t *testing.T) {
	params := platformParams(map[string]string{"SmsProvider": "sns"}, "http://issuer",
		messagingParams("127.0.0.1:2525", "http://127.0.0.1:4000/_local/messages"))
	a, err := loadApp("testdata/template.yaml", params)
	if err != nil {
		t.Fatal(err)
	}
	f, err := a.function("notifier")
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.settings(f, "http://ddb", "/task", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"EMAIL_PROVIDER":   "smtp",
		"SMTP_ENDPOINT":    "127.0.0.1:2525",
		"SMS_PROVIDER":     "sns", // the user's -param wins
		"PUSH_PROVIDER":    "sink",
		"MESSAGE_SINK_URL": "http://127.0.0.1:4000/_local/messages",
	} {
		if s.env[k] != want {
			t.Errorf("%s = %q, want %q", k, s.env[k], want)
		}
	}
	// A template that declares none of these parameters is not disturbed.
	if _, err := loadApp(filepath.Join("testdata", "events.yaml"), params); err != nil {
		t.Errorf("a template without the messaging parameters: %v", err)
	}
	if d := defaultMessagingParams(); d[paramSMTPEndpoint] != "127.0.0.1:1025" || d[paramMessageSinkURL] != "http://127.0.0.1:3000/_local/messages" {
		t.Errorf("defaults = %v", d)
	}
}

func TestMailpitPorts(t *testing.T) {
	for _, tc := range []struct {
		o          Options
		smtp, http int
	}{
		{Options{Port: 3000}, 1025, 8025},
		{Options{}, 0, 0},
		{Options{Port: 3000, MailpitSMTPPort: 2525}, 2525, 8025},
		{Options{MailpitSMTPPort: 2525, MailpitPort: 9025}, 2525, 9025},
	} {
		r := &resolved{Options: tc.o}
		if smtp, http := r.mailpitPorts(); smtp != tc.smtp || http != tc.http {
			t.Errorf("%+v: ports %d, %d, want %d, %d", tc.o, smtp, http, tc.smtp, tc.http)
		}
	}
}

func TestStartWithoutMailpit(t *testing.T) {
	exe, err := os.Executable() // any existing file passes the RIE check
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Options{Root: "testdata", RIE: exe, MailpitBin: filepath.Join(t.TempDir(), "mailpit"), Log: &lockedBuffer{}})
	if !errors.Is(err, ErrNoMailpit) || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("err = %v, want ErrNoMailpit", err)
	}
}
