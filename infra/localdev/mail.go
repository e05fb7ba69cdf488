package localdev

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/labchain/appointments/infra/mailpit"
	"github.com/labchain/appointments/infra/proc"
)

// Ports of Mailpit under `localdev up` (Mailpit's own defaults).
const (
	// DefaultSMTPPort is Mailpit's SMTP port of `localdev up`.
	DefaultSMTPPort = mailpit.DefaultSMTPPort
	// DefaultMailpitPort is Mailpit's web UI and API port of `localdev up`.
	DefaultMailpitPort = mailpit.DefaultHTTPPort
)

// ErrNoMailpit is wrapped by Start's error when the mailpit binary is not
// installed ("mailpit not found: run `make tools`"). It is
// mailpit.ErrNotInstalled.
var ErrNoMailpit = mailpit.ErrNotInstalled

// sinkPath is the message sink's path on the API (see sink.go).
const sinkPath = localPrefix + "/messages"

// Template parameters the platform sets so that the notification function
// sends email to Mailpit and SMS and push to the message sink. The template
// passes them on as EMAIL_PROVIDER, SMTP_ENDPOINT, SMS_PROVIDER,
// PUSH_PROVIDER and MESSAGE_SINK_URL (see shared/notify/providers); a
// template that does not declare them ignores them.
const (
	paramEmailProvider  = "EmailProvider"
	paramSMTPEndpoint   = "SmtpEndpoint"
	paramSMSProvider    = "SmsProvider"
	paramPushProvider   = "PushProvider"
	paramMessageSinkURL = "MessageSinkUrl"
)

// messagingParams are the parameters that route the functions' messages to
// the local Mailpit (smtpAddr, host:port) and sink (sinkURL).
func messagingParams(smtpAddr, sinkURL string) map[string]string {
	return map[string]string{
		paramEmailProvider:  "smtp",
		paramSMTPEndpoint:   smtpAddr,
		paramSMSProvider:    "sink",
		paramPushProvider:   "sink",
		paramMessageSinkURL: sinkURL,
	}
}

// defaultMessagingParams point at the Mailpit and sink of a running
// `localdev up` (what Invoke uses).
func defaultMessagingParams() map[string]string {
	return messagingParams("127.0.0.1:"+strconv.Itoa(DefaultSMTPPort), "http://127.0.0.1:"+strconv.Itoa(DefaultPort)+sinkPath)
}

func (r *resolved) checkMailpit() error {
	if _, err := proc.Binary(r.MailpitBin, nil, ErrNoMailpit); err != nil {
		return fmt.Errorf("localdev: %w", err)
	}
	return nil
}

// mailpitPorts returns the SMTP and web ports to run Mailpit on: the
// Options' own, else Mailpit's defaults when the API has a fixed port
// (`localdev up`) and free ports when it has none (tests).
func (r *resolved) mailpitPorts() (smtp, web int) {
	smtp, web = r.MailpitSMTPPort, r.MailpitPort
	if r.Port != 0 {
		if smtp == 0 {
			smtp = DefaultSMTPPort
		}
		if web == 0 {
			web = DefaultMailpitPort
		}
	}
	return smtp, web
}

// startMailpit starts Mailpit; its output goes to FunctionLog as "mailpit".
func (p *Platform) startMailpit(ctx context.Context) error {
	o := p.opts
	begin := time.Now()
	smtp, web := o.mailpitPorts()
	log := newPrefixWriter(o.FunctionLog, "mailpit")
	s, err := mailpit.Start(ctx, mailpit.Options{Bin: o.MailpitBin, SMTPPort: smtp, HTTPPort: web, Log: log})
	if err != nil {
		return fmt.Errorf("localdev: %w", err)
	}
	p.mailpit = s
	o.logf("Mailpit ready: SMTP %s, web UI %s (%.1fs); emails go there, SMS and push to the message sink %s", s.SMTPAddr(), s.URL(), time.Since(begin).Seconds(), p.MessageSinkURL())
	return nil
}

// MailpitURL returns the URL of Mailpit's web UI and JSON API,
// "http://127.0.0.1:<port>": every email the functions send is there.
func (p *Platform) MailpitURL() string { return p.mailpit.URL() }

// Mailpit returns a client of Mailpit's API, to read the emails the
// functions sent.
func (p *Platform) Mailpit() *mailpit.Client { return p.mailpit.Client }

// SMTPEndpoint returns Mailpit's SMTP address, "127.0.0.1:<port>" (the
// SmtpEndpoint parameter).
func (p *Platform) SMTPEndpoint() string { return p.mailpit.SMTPAddr() }

// MessageSinkURL returns the URL of the message sink,
// "http://127.0.0.1:<port>/_local/messages" (the MessageSinkUrl parameter).
func (p *Platform) MessageSinkURL() string { return p.url + sinkPath }
