package providers

import (
	"bytes"
	"context"
	"errors"
	"github.com/labchain/appointments/shared/apperr"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/proc"
	"github.com/labchain/appointments/shared/notify"
)

var thaiEmail = notify.Message{
	Channel: notify.ChannelEmail,
	Kind:    notify.KindConfirmation,
	To:      "somchai@example.com",
	Content: notify.Content{
		Subject: "ยืนยันการนัดหมาย: เจาะเลือดขณะอดอาหาร วันพฤหัสบดีที่ 3 ธันวาคม 2569 เวลา 08:00 น. สาขาสีลม",
		Text:    "สวัสดีค่ะ คุณสมชาย\nกรุณางดอาหาร 8 ชั่วโมงก่อนเจาะเลือด\n=ขอบคุณค่ะ=",
		HTML:    "<p>สวัสดีค่ะ คุณสมชาย</p><p>กรุณางดอาหาร <b>8 ชั่วโมง</b></p>",
	},
	Key: "appt_01J#confirmation#email#1",
}

// parsed is a message read back the way a mail reader does.
type parsed struct {
	header          mail.Header
	subject         string
	text, html      string
	contentType     string
	partContentType []string
}

func parseMIME(t *testing.T, raw []byte) parsed {
	t.Helper()
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d characters", len(line))
		}
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in the message")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	p.header = msg.Header
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	p.contentType = msg.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(p.contentType)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(h textproto.MIMEHeader, r io.Reader) string {
		if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("transfer encoding %q", h.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if mt != "multipart/alternative" {
		p.text = decode(textproto.MIMEHeader(msg.Header), msg.Body)
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct := part.Header.Get("Content-Type")
		p.partContentType = append(p.partContentType, ct)
		body := decode(part.Header, part)
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			p.text = body
		case strings.HasPrefix(ct, "text/html"):
			p.html = body
		}
	}
	return p
}

func TestBuildMIME(t *testing.T) {
	from := &mail.Address{Name: "แล็บเชน LabChain", Address: "no-reply@labchain.test"}
	to := &mail.Address{Address: thaiEmail.To}
	date := time.Date(2026, 12, 1, 9, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	raw, err := buildMIME(from, to, "id-1@labchain.test", date, thaiEmail)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMIME(t, raw)
	if p.subject != thaiEmail.Content.Subject {
		t.Errorf("subject = %q", p.subject)
	}
	if strings.ContainsFunc(p.header.Get("Subject"), func(r rune) bool { return r > 127 }) {
		t.Errorf("the Subject header is not encoded: %q", p.header.Get("Subject"))
	}
	// crlf line ends in the parts are the mail's; compare with LF.
	if got := strings.ReplaceAll(p.text, "\r\n", "\n"); got != thaiEmail.Content.Text {
		t.Errorf("text = %q", got)
	}
	if p.html != thaiEmail.Content.HTML {
		t.Errorf("html = %q", p.html)
	}
	if len(p.partContentType) != 2 || p.partContentType[0] != "text/plain; charset=UTF-8" || p.partContentType[1] != "text/html; charset=UTF-8" {
		t.Errorf("parts = %v", p.partContentType)
	}
	if got := p.header.Get("Message-Id"); got != "<id-1@labchain.test>" {
		t.Errorf("Message-ID = %q", got)
	}
	if got, err := p.header.Date(); err != nil || !got.Equal(date) {
		t.Errorf("Date = %v, %v", got, err)
	}
	if got, err := p.header.AddressList("From"); err != nil || len(got) != 1 || *got[0] != *from {
		t.Errorf("From = %v, %v", got, err)
	}
	if got := p.header.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version = %q", got)
	}
	if got := p.header.Get("X-Notify-Kind"); got != "confirmation" {
		t.Errorf("X-Notify-Kind = %q", got)
	}

	textOnly := thaiEmail
	textOnly.Content.HTML = ""
	raw, err = buildMIME(from, to, "id-2@labchain.test", date, textOnly)
	if err != nil {
		t.Fatal(err)
	}
	p = parseMIME(t, raw)
	if p.contentType != "text/plain; charset=UTF-8" || strings.ReplaceAll(p.text, "\r\n", "\n") != textOnly.Content.Text {
		t.Errorf("text only: %q %q", p.contentType, p.text)
	}
}

func TestMessageID(t *testing.T) {
	if got := MessageID("appt_01J#confirmation#email#1", "no-reply@labchain.test"); got != "appt_01J#confirmation#email#1@labchain.test" {
		t.Errorf("dot-atom key: %q", got)
	}
	odd := MessageID("appt 1/confirmation@email", "no-reply@labchain.test")
	if odd != MessageID("appt 1/confirmation@email", "no-reply@labchain.test") {
		t.Error("not deterministic")
	}
	if _, err := mail.ParseAddress("x <" + odd + ">"); err != nil || strings.Count(odd, "@") != 1 || strings.Contains(odd, " ") {
		t.Errorf("key with spaces and @: %q is not a valid msg-id (%v)", odd, err)
	}
	if MessageID("a", "x@y") == MessageID("b", "x@y") {
		t.Error("different keys, same id")
	}
	if r1, r2 := MessageID("", "x@y"), MessageID("", "x@y"); r1 == r2 {
		t.Error("empty keys must get random ids")
	}
	if got := MessageID(strings.Repeat("a", 65), "x@y"); len(got) > 40 {
		t.Errorf("long key: %q", got)
	}
}

func TestSMTPErrors(t *testing.T) {
	for _, tc := range []struct {
		err       error
		permanent bool
	}{
		{&textproto.Error{Code: 550, Msg: "mailbox unavailable"}, true},
		{&textproto.Error{Code: 554, Msg: "transaction failed"}, true},
		{&textproto.Error{Code: 451, Msg: "try again later"}, false},
		{&textproto.Error{Code: 421, Msg: "closing"}, false},
		{io.ErrUnexpectedEOF, false},
	} {
		if got := smtpError("RCPT TO", tc.err); apperr.IsPermanent(got) != tc.permanent || !errors.Is(got, tc.err) {
			t.Errorf("%v: permanent = %v, want %v", got, apperr.IsPermanent(got), tc.permanent)
		}
	}

	s := &SMTP{From: "no-reply@labchain.test", Timeout: 2 * time.Second}
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(port) // nothing listens there
	if _, err := s.Send(context.Background(), thaiEmail); err == nil || apperr.IsPermanent(err) {
		t.Errorf("connection refused: %v, want a transient error", err)
	}
	bad := thaiEmail
	bad.To = "not an address"
	if _, err := s.Send(context.Background(), bad); !apperr.IsPermanent(err) {
		t.Errorf("invalid recipient: %v, want permanent", err)
	}
}
