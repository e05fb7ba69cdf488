package providers

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/labchain/appointments/shared/notify"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		"EMAIL_FROM":                    "LabChain <no-reply@labchain.co.th>",
		"PUSH_PLATFORM_APPLICATION_ARN": "arn:aws:sns:ap-southeast-1:123456789012:app/GCM/labchain",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{EmailProvider: "ses", SMSProvider: "sns", PushProvider: "sns", EmailFrom: "LabChain <no-reply@labchain.co.th>",
		PushPlatformApplicationARN: "arn:aws:sns:ap-southeast-1:123456789012:app/GCM/labchain"}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	senders, err := Senders(c, aws.Config{Region: "ap-southeast-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := senders[notify.ChannelEmail].(*SESEmail); !ok {
		t.Errorf("email = %T", senders[notify.ChannelEmail])
	}
	if s, ok := senders[notify.ChannelSMS].(*SNSSMS); !ok || s.Client == nil {
		t.Errorf("sms = %T", senders[notify.ChannelSMS])
	}
	if s, ok := senders[notify.ChannelPush].(*SNSPush); !ok || s.PlatformApplicationARN != want.PushPlatformApplicationARN {
		t.Errorf("push = %T", senders[notify.ChannelPush])
	}
}

func TestConfigFromEnvLocal(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		"EMAIL_PROVIDER":   "smtp",
		"SMS_PROVIDER":     "Sink",
		"PUSH_PROVIDER":    " sink ",
		"SMTP_ENDPOINT":    "127.0.0.1:1025",
		"MESSAGE_SINK_URL": "http://127.0.0.1:3000/_local/messages",
		"EMAIL_FROM":       "no-reply@labchain.test",
		"SMS_SENDER_ID":    "LabChain",
	}))
	if err != nil {
		t.Fatal(err)
	}
	senders, err := Senders(c, aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := senders[notify.ChannelEmail].(*SMTP); !ok || s.Addr != "127.0.0.1:1025" || s.From != "no-reply@labchain.test" {
		t.Errorf("email = %#v", senders[notify.ChannelEmail])
	}
	for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelPush} {
		if s, ok := senders[ch].(*Sink); !ok || s.URL != "http://127.0.0.1:3000/_local/messages" {
			t.Errorf("%s = %#v", ch, senders[ch])
		}
	}
}

func TestConfigFromEnvPushNone(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{"EMAIL_FROM": "no-reply@labchain.co.th", "PUSH_PROVIDER": "none"}))
	if err != nil {
		t.Fatal(err)
	}
	senders, err := Senders(c, aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := senders[notify.ChannelPush]; ok || len(senders) != 2 {
		t.Errorf("senders = %v, want email and sms only", senders)
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		bad  []string // variables the error must name, in order
	}{
		{"nothing set", map[string]string{}, []string{"PUSH_PLATFORM_APPLICATION_ARN", "EMAIL_FROM"}},
		{"every variable wrong", map[string]string{
			"EMAIL_PROVIDER": "mailgun", "SMS_PROVIDER": "twilio", "PUSH_PROVIDER": "fcm",
			"EMAIL_FROM": "not an address", "SMS_SENDER_ID": "TooLongSenderID",
		}, []string{"EMAIL_PROVIDER", "SMS_PROVIDER", "PUSH_PROVIDER", "EMAIL_FROM", "SMS_SENDER_ID"}},
		{"smtp and sink without endpoints", map[string]string{
			"EMAIL_PROVIDER": "smtp", "SMS_PROVIDER": "sink", "PUSH_PROVIDER": "none", "EMAIL_FROM": "a@b.test",
		}, []string{"SMTP_ENDPOINT", "MESSAGE_SINK_URL"}},
		{"malformed endpoints", map[string]string{
			"EMAIL_PROVIDER": "smtp", "SMTP_ENDPOINT": "localhost", "PUSH_PROVIDER": "sink",
			"MESSAGE_SINK_URL": "127.0.0.1:3000/_local/messages", "EMAIL_FROM": "a@b.test",
		}, []string{"SMTP_ENDPOINT", "MESSAGE_SINK_URL"}},
		{"push arn not an arn, digits-only sender id", map[string]string{
			"PUSH_PLATFORM_APPLICATION_ARN": "labchain-app", "EMAIL_FROM": "a@b.test", "SMS_SENDER_ID": "12345",
		}, []string{"PUSH_PLATFORM_APPLICATION_ARN", "SMS_SENDER_ID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromEnv(env(tc.env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			var names []string
			for _, p := range ce.Problems {
				name, _, _ := strings.Cut(p, ":")
				names = append(names, name)
			}
			if !slices.Equal(names, tc.bad) {
				t.Errorf("problems = %q\nwant variables %v", ce.Problems, tc.bad)
			}
			for _, name := range tc.bad {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("the message does not name %s: %v", name, err)
				}
			}
		})
	}
	if _, err := Senders(Config{EmailProvider: "ses"}, aws.Config{}); err == nil {
		t.Error("Senders with an invalid Config must fail")
	}
}
