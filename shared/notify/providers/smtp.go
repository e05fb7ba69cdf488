package providers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/labchain/appointments/shared/apperr"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/notify"
)

// SMTP sends email over plain SMTP without authentication or TLS, to a local
// server such as Mailpit (127.0.0.1:1025). Each message is a MIME
// multipart/alternative of a plain-text and an HTML part (only the text part
// when there is no HTML), UTF-8, quoted-printable, with an RFC 2047 encoded
// Subject, and a Message-ID derived from Message.Key. Its provider id is that
// Message-ID without the angle brackets (what Mailpit shows as MessageID).
//
// It is meant for the local platform: nothing is encrypted.
type SMTP struct {
	// Addr is the server's host:port, e.g. "127.0.0.1:1025".
	Addr string
	// From is the sender address, e.g. "LabChain <no-reply@labchain.test>".
	From string
	// Hello is the name sent with EHLO; default "localhost".
	Hello string
	// Timeout bounds one Send (connect to QUIT) when ctx has no earlier
	// deadline; default 30 s.
	Timeout time.Duration
	// Now is the clock of the Date header; default time.Now.
	Now func() time.Time
}

var _ notify.Sender = (*SMTP)(nil)

// Send delivers m to m.To. A recipient that is not an email address is a
// permanent error; so is an SMTP 5xx reply (mailbox unknown, message
// refused). A 4xx reply and connection or network failures are transient.
func (s *SMTP) Send(ctx context.Context, m notify.Message) (string, error) {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return "", fmt.Errorf("smtp: sender address %q: %w", s.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return "", apperr.MarkPermanent(fmt.Errorf("smtp: the recipient is not an email address: %w", err))
	}
	if m.Content.Subject == "" || m.Content.Text == "" {
		return "", apperr.MarkPermanent(errors.New("smtp: an email needs a subject and a text body"))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	id := MessageID(m.Key, from.Address)
	msg, err := buildMIME(from, to, id, now(), m)
	if err != nil {
		return "", apperr.MarkPermanent(err)
	}
	if err := s.deliver(ctx, from.Address, to.Address, msg); err != nil {
		return "", err
	}
	return id, nil
}

// deliver runs one SMTP transaction.
func (s *SMTP) deliver(ctx context.Context, from, to string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", s.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Cancelling ctx interrupts a blocked read or write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpError("greeting", err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return smtpError("EHLO", err)
	}
	if err := c.Mail(from); err != nil {
		return smtpError("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return smtpError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of DATA", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not
	// undo that.
	_ = c.Quit()
	return nil
}

// smtpError names the step and classifies the reply: 5xx is permanent, 4xx
// and anything that is not an SMTP reply (network) transient.
func smtpError(step string, err error) error {
	err = fmt.Errorf("smtp: %s: %w", step, err)
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600 {
		return apperr.MarkPermanent(err)
	}
	return err
}

// msgIDAtom is what MessageID keeps as it is: an RFC 5322 dot-atom.
var msgIDAtom = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")

// MessageID returns the Message-ID (without angle brackets) SMTP gives a
// message with this key sent from this address: "<key>@<sender's domain>"
// when the key is a valid dot-atom of at most 64 characters, else
// "k<32 hex digits of its SHA-256>@<domain>"; a random id for an empty key.
// The same key always gives the same id.
func MessageID(key, from string) string {
	domain := "notify.local"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var left string
	switch {
	case key == "":
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		left = "r" + hex.EncodeToString(b)
	case len(key) <= 64 && msgIDAtom.MatchString(key):
		left = key
	default:
		sum := sha256.Sum256([]byte(key))
		left = "k" + hex.EncodeToString(sum[:16])
	}
	return left + "@" + domain
}

// buildMIME renders the whole message, headers and body, with CRLF line ends.
func buildMIME(from, to *mail.Address, id string, date time.Time, m notify.Message) ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeHeader(m.Content.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.Kind != "" && !strings.ContainsAny(string(m.Kind), "\r\n") {
		header("X-Notify-Kind", string(m.Kind))
	}
	if m.Content.HTML == "" {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Content.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, text string }{{"text/plain", m.Content.Text}, {"text/html", m.Content.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.text); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// encodeHeader encodes a header value as RFC 2047 UTF-8 encoded words when it
// is not plain ASCII, one encoded word per folded line.
func encodeHeader(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	enc := mime.BEncoding.Encode("UTF-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func writeQP(w io.Writer, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}
