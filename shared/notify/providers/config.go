package providers

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/labchain/appointments/shared/notify"
)

// Provider names, the values of EMAIL_PROVIDER, SMS_PROVIDER and
// PUSH_PROVIDER.
const (
	ProviderSES  = "ses"  // email through Amazon SES v2 (SESEmail)
	ProviderSMTP = "smtp" // email over plain SMTP, e.g. to Mailpit (SMTP)
	ProviderSNS  = "sns"  // SMS or push through Amazon SNS (SNSSMS, SNSPush)
	ProviderSink = "sink" // SMS or push to the local platform's sink (Sink)
	ProviderNone = "none" // push turned off
)

// Config says which provider sends each channel and how to reach it. The
// notification function reads it from its environment with ConfigFromEnv.
type Config struct {
	// EmailProvider is ProviderSES (default) or ProviderSMTP.
	EmailProvider string
	// SMSProvider is ProviderSNS (default) or ProviderSink.
	SMSProvider string
	// PushProvider is ProviderSNS (default), ProviderSink or ProviderNone.
	PushProvider string
	// SMTPEndpoint is the SMTP server's host:port (EmailProvider smtp).
	SMTPEndpoint string
	// SinkURL is the local message sink's URL (a provider is sink).
	SinkURL string
	// EmailFrom is the sender address of every email.
	EmailFrom string
	// SMSSenderID is the optional SMS sender id (SNS).
	SMSSenderID string
	// PushPlatformApplicationARN is the SNS platform application of the
	// device tokens (PushProvider sns).
	PushPlatformApplicationARN string
}

// ConfigError lists every invalid or missing variable ConfigFromEnv found.
type ConfigError struct {
	// Problems has one entry per variable, "NAME: what is wrong".
	Problems []string
}

func (e *ConfigError) Error() string {
	return "notification providers: " + strings.Join(e.Problems, "; ")
}

// senderID is an SNS alphanumeric sender id: 1–11 letters, digits or
// hyphens, at least one letter.
var senderID = regexp.MustCompile(`^[A-Za-z0-9-]{1,11}$`)

// ConfigFromEnv reads the configuration from getenv (os.Getenv in a
// function):
//
//	EMAIL_PROVIDER                 ses | smtp (default ses)
//	SMS_PROVIDER                   sns | sink (default sns)
//	PUSH_PROVIDER                  sns | sink | none (default sns)
//	SMTP_ENDPOINT                  host:port, required when EMAIL_PROVIDER=smtp
//	MESSAGE_SINK_URL               http(s) URL, required when a provider is sink
//	EMAIL_FROM                     an address, required
//	SMS_SENDER_ID                  optional, 1–11 letters/digits/hyphens with a letter
//	PUSH_PLATFORM_APPLICATION_ARN  required when PUSH_PROVIDER=sns (set
//	                               PUSH_PROVIDER=none where push is not set up)
//
// Values are trimmed and provider names are case-insensitive. The error, a
// *ConfigError, lists every bad variable at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		EmailProvider:              strings.ToLower(get("EMAIL_PROVIDER")),
		SMSProvider:                strings.ToLower(get("SMS_PROVIDER")),
		PushProvider:               strings.ToLower(get("PUSH_PROVIDER")),
		SMTPEndpoint:               get("SMTP_ENDPOINT"),
		SinkURL:                    get("MESSAGE_SINK_URL"),
		EmailFrom:                  get("EMAIL_FROM"),
		SMSSenderID:                get("SMS_SENDER_ID"),
		PushPlatformApplicationARN: get("PUSH_PLATFORM_APPLICATION_ARN"),
	}
	if c.EmailProvider == "" {
		c.EmailProvider = ProviderSES
	}
	if c.SMSProvider == "" {
		c.SMSProvider = ProviderSNS
	}
	if c.PushProvider == "" {
		c.PushProvider = ProviderSNS
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks c as ConfigFromEnv does (without applying defaults) and
// returns a *ConfigError naming each bad variable, or nil.
func (c Config) Validate() error {
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	needSink := false
	switch c.EmailProvider {
	case ProviderSES:
	case ProviderSMTP:
		if c.SMTPEndpoint == "" {
			bad("SMTP_ENDPOINT", "required when EMAIL_PROVIDER=smtp")
		} else if host, port, err := net.SplitHostPort(c.SMTPEndpoint); err != nil || host == "" || port == "" {
			bad("SMTP_ENDPOINT", "want host:port, got %q", c.SMTPEndpoint)
		}
	default:
		bad("EMAIL_PROVIDER", "want ses or smtp, got %q", c.EmailProvider)
	}
	switch c.SMSProvider {
	case ProviderSNS:
	case ProviderSink:
		needSink = true
	default:
		bad("SMS_PROVIDER", "want sns or sink, got %q", c.SMSProvider)
	}
	switch c.PushProvider {
	case ProviderSNS:
		if c.PushPlatformApplicationARN == "" {
			bad("PUSH_PLATFORM_APPLICATION_ARN", "required when PUSH_PROVIDER=sns (set PUSH_PROVIDER=none to turn push off)")
		} else if !strings.HasPrefix(c.PushPlatformApplicationARN, "arn:") {
			bad("PUSH_PLATFORM_APPLICATION_ARN", "want an ARN, got %q", c.PushPlatformApplicationARN)
		}
	case ProviderSink:
		needSink = true
	case ProviderNone:
	default:
		bad("PUSH_PROVIDER", "want sns, sink or none, got %q", c.PushProvider)
	}
	if needSink {
		if c.SinkURL == "" {
			bad("MESSAGE_SINK_URL", "required when SMS_PROVIDER or PUSH_PROVIDER is sink")
		} else if u, err := url.Parse(c.SinkURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("MESSAGE_SINK_URL", "want an http(s) URL, got %q", c.SinkURL)
		}
	}
	if c.EmailFrom == "" {
		bad("EMAIL_FROM", "required")
	} else if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
		bad("EMAIL_FROM", "not an email address: %q", c.EmailFrom)
	}
	if c.SMSSenderID != "" && (!senderID.MatchString(c.SMSSenderID) || !strings.ContainsAny(strings.ToLower(c.SMSSenderID), "abcdefghijklmnopqrstuvwxyz")) {
		bad("SMS_SENDER_ID", "want 1–11 letters, digits or hyphens with at least one letter, got %q", c.SMSSenderID)
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// Senders builds one sender per enabled channel (push is absent with
// ProviderNone). The SES and SNS clients are built once from awsCfg (region,
// credentials and AWS_ENDPOINT_URL_* come from it) and shared. cfg must be
// valid (ConfigFromEnv's result).
func Senders(cfg Config, awsCfg aws.Config) (map[notify.Channel]notify.Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := map[notify.Channel]notify.Sender{}
	var snsClient *sns.Client
	snsOnce := func() *sns.Client {
		if snsClient == nil {
			snsClient = sns.NewFromConfig(awsCfg)
		}
		return snsClient
	}
	switch cfg.EmailProvider {
	case ProviderSES:
		out[notify.ChannelEmail] = &SESEmail{Client: sesv2.NewFromConfig(awsCfg), From: cfg.EmailFrom}
	case ProviderSMTP:
		out[notify.ChannelEmail] = &SMTP{Addr: cfg.SMTPEndpoint, From: cfg.EmailFrom}
	}
	switch cfg.SMSProvider {
	case ProviderSNS:
		out[notify.ChannelSMS] = &SNSSMS{Client: snsOnce(), SenderID: cfg.SMSSenderID}
	case ProviderSink:
		out[notify.ChannelSMS] = &Sink{URL: cfg.SinkURL}
	}
	switch cfg.PushProvider {
	case ProviderSNS:
		out[notify.ChannelPush] = &SNSPush{Client: snsOnce(), PlatformApplicationARN: cfg.PushPlatformApplicationARN}
	case ProviderSink:
		out[notify.ChannelPush] = &Sink{URL: cfg.SinkURL}
	}
	return out, nil
}
