package localdev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/mailpit"
)

// notifyReply is the notifier test function's answer.
type notifyReply struct {
	ProviderID string `json:"providerId"`
	Sender     string `json:"sender"`
	Error      string `json:"error"`
	Permanent  bool   `json:"permanent"`
}

// sendThroughFunction has the notifier function send one message with the
// senders it configures from the environment the platform gave it.
func sendThroughFunction(t *testing.T, p *Platform, msg map[string]string) (int, notifyReply) {
	t.Helper()
	body, _ := json.Marshal(msg)
	resp, data := call(t, http.MethodPost, p.URL()+"/v1/notify", "", bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
	var r notifyReply
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("notifier answered %d: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, r
}

// TestMessagingThroughFunctions: a function running on the platform sends
// email to Mailpit and SMS and push to the sink, with nothing but the
// environment the template parameters give it.
func TestMessagingThroughFunctions(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	mp := mailpit.NewClient(p.MailpitURL())
	if _, err := mp.Info(ctx); err != nil {
		t.Fatalf("Mailpit at %s: %v", p.MailpitURL(), err)
	}

	subject := "ยืนยันการนัดหมาย วันพฤหัสบดีที่ 3 ธันวาคม 08:00 น."
	key := "appt-" + time.Now().Format("150405.000000") + "#confirmation#email"
	status, r := sendThroughFunction(t, p, map[string]string{"channel": "email", "kind": "confirmation", "to": "somchai@example.com",
		"subject": subject, "text": "สวัสดีค่ะ", "html": "<p>สวัสดีค่ะ</p>", "key": key})
	if status != http.StatusOK || r.Sender != "smtp" || r.ProviderID == "" {
		t.Fatalf("email: %d %+v", status, r)
	}
	list, err := p.Mailpit().Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *mailpit.Summary
	for i := range list {
		if list[i].MessageID == r.ProviderID {
			found = &list[i]
		}
	}
	if found == nil {
		t.Fatalf("no message %s in Mailpit (%d messages)", r.ProviderID, len(list))
	}
	full, err := p.Mailpit().Message(ctx, found.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Subject != subject || strings.TrimSpace(full.Text) != "สวัสดีค่ะ" || full.HTML != "<p>สวัสดีค่ะ</p>" || full.From.Name != "LabChain แล็บเชน" {
		t.Errorf("email in Mailpit = %+v", full)
	}

	to := "+6681" + time.Now().Format("0405000") // unique per run
	status, r = sendThroughFunction(t, p, map[string]string{"channel": "sms", "kind": "reminder", "to": to, "text": "พรุ่งนี้ 08:00", "key": to + "#sms"})
	if status != http.StatusOK || r.Sender != "sink" {
		t.Fatalf("sms: %d %+v", status, r)
	}
	got := p.Messages(SinkFilter{Channel: "sms", To: to})
	if len(got) != 1 || got[0].ID != r.ProviderID || got[0].Text != "พรุ่งนี้ 08:00" || got[0].Kind != "reminder" {
		t.Errorf("sink = %+v, provider id %q", got, r.ProviderID)
	}
	status, r = sendThroughFunction(t, p, map[string]string{"channel": "push", "kind": "results_ready", "to": "device-" + to, "subject": "ผลตรวจ", "text": "พร้อมแล้ว"})
	if status != http.StatusOK || r.Sender != "sink" || len(p.Messages(SinkFilter{Channel: "push", To: "device-" + to})) != 1 {
		t.Errorf("push: %d %+v", status, r)
	}

	// Injected faults reach the function as the sender classifies them.
	fault, err := p.InjectFault(SinkFault{Channel: "sms", To: to, Status: 503, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if status, r := sendThroughFunction(t, p, map[string]string{"channel": "sms", "to": to, "text": "x", "key": to + "#retry"}); status != http.StatusBadGateway || r.Permanent {
			t.Errorf("send %d during a 503 fault: %d %+v, want a transient failure", i, status, r)
		}
	}
	if status, _ := sendThroughFunction(t, p, map[string]string{"channel": "sms", "to": to, "text": "x", "key": to + "#retry"}); status != http.StatusOK {
		t.Errorf("after the fault's count: %d", status)
	}
	if got := p.Messages(SinkFilter{Key: to + "#retry"}); len(got) != 1 || got[0].Attempts != 3 {
		t.Errorf("retried message = %+v, want one with attempts 3", got)
	}
	if _, err := p.InjectFault(SinkFault{Channel: "sms", To: to, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if status, r := sendThroughFunction(t, p, map[string]string{"channel": "sms", "to": to, "text": "x"}); status != http.StatusBadGateway || !r.Permanent {
		t.Errorf("during a 400 fault: %d %+v, want a permanent failure", status, r)
	}
	faults, _ := p.Faults()
	for _, f := range faults {
		if f.ID == fault.ID && (f.Hits != 2 || f.Remaining != 0) {
			t.Errorf("fault after use = %+v", f)
		}
	}

	// The same sink over HTTP, as curl sees it.
	resp, data := call(t, http.MethodGet, p.URL()+"/_local/messages?channel=sms&to="+strings.Replace(to, "+", "%2B", 1), "", nil, nil)
	var l sinkList
	if err := json.Unmarshal(data, &l); resp.StatusCode != http.StatusOK || err != nil || len(l.Items) != 2 {
		t.Errorf("GET /_local/messages = %d %s", resp.StatusCode, data)
	}
}

// TestMailpitStopsWithThePlatform starts a second platform (on the shared
// one's DynamoDB and SQS) and checks its Mailpit answers, then is gone after
// Close.
func TestMailpitStopsWithThePlatform(t *testing.T) {
	shared := shared(t)
	log := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := Start(ctx, testOptions(log, Options{DynamoEndpoint: shared.DynamoEndpoint(), SQSEndpoint: shared.SQSEndpoint(), Functions: []string{"echo"}}))
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	defer p.Close()
	if p.MailpitURL() == shared.MailpitURL() || p.SMTPEndpoint() == shared.SMTPEndpoint() {
		t.Errorf("two platforms share Mailpit ports: %s %s", p.MailpitURL(), p.SMTPEndpoint())
	}
	if _, err := p.Mailpit().Info(ctx); err != nil {
		t.Fatalf("Mailpit: %v", err)
	}
	if !strings.Contains(log.String(), "Mailpit ready: SMTP "+p.SMTPEndpoint()) || !strings.Contains(log.String(), p.MessageSinkURL()) {
		t.Errorf("the log does not name Mailpit and the sink:\n%s", log.String())
	}
	pid := p.mailpit.Pid()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Mailpit (pid %d) is still there after Close: %v", pid, err)
	}
	if _, err := mailpit.NewClient(p.MailpitURL()).Info(ctx); err == nil {
		t.Error("Mailpit still answers after Close")
	}
}
