package providers

import (
	"context"
	"github.com/labchain/appointments/shared/apperr"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/mailpit"
)

// TestSMTPMailpit sends through a real Mailpit and reads the message back
// through its API, as the local platform's email channel does.
func TestSMTPMailpit(t *testing.T) {
	mp := mailpit.ForTest(t, mailpit.Options{Chaos: true})
	ctx := context.Background()
	s := &SMTP{Addr: mp.SMTPAddr(), From: "LabChain แล็บเชน <no-reply@labchain.test>", Timeout: 10 * time.Second}

	id, err := s.Send(ctx, thaiEmail)
	if err != nil {
		t.Fatal(err)
	}
	if id != MessageID(thaiEmail.Key, "no-reply@labchain.test") {
		t.Errorf("provider id = %q", id)
	}
	list, err := mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d messages in Mailpit, want 1", len(list))
	}
	got, err := mp.Message(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != id {
		t.Errorf("Message-ID = %q, want the provider id %q", got.MessageID, id)
	}
	if got.Subject != thaiEmail.Content.Subject {
		t.Errorf("subject = %q\nwant      %q", got.Subject, thaiEmail.Content.Subject)
	}
	if text := strings.TrimRight(strings.ReplaceAll(got.Text, "\r\n", "\n"), "\n"); text != thaiEmail.Content.Text {
		t.Errorf("text = %q\nwant   %q", text, thaiEmail.Content.Text)
	}
	if got.HTML != thaiEmail.Content.HTML {
		t.Errorf("html = %q\nwant   %q", got.HTML, thaiEmail.Content.HTML)
	}
	if len(got.To) != 1 || got.To[0].Address != thaiEmail.To {
		t.Errorf("to = %+v", got.To)
	}
	if got.From == nil || got.From.Name != "LabChain แล็บเชน" || got.From.Address != "no-reply@labchain.test" {
		t.Errorf("from = %+v", got.From)
	}

	// The server refuses the recipient: 5xx is permanent, 4xx transient.
	for _, tc := range []struct {
		code      int
		permanent bool
	}{{550, true}, {451, false}} {
		if err := mp.SetChaos(ctx, mailpit.Chaos{Recipient: mailpit.ChaosTrigger{ErrorCode: tc.code, Probability: 100}}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Send(ctx, thaiEmail)
		if err == nil || apperr.IsPermanent(err) != tc.permanent {
			t.Errorf("RCPT answered %d: %v, want permanent=%v", tc.code, err, tc.permanent)
		}
	}
	if err := mp.SetChaos(ctx, mailpit.Chaos{}); err != nil {
		t.Fatal(err)
	}
	if list, err := mp.Messages(ctx); err != nil || len(list) != 1 {
		t.Errorf("refused sends were stored: %d messages, %v", len(list), err)
	}
}
