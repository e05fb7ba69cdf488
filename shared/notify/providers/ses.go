package providers

import (
	"context"
	"errors"
	"github.com/labchain/appointments/shared/apperr"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/labchain/appointments/shared/notify"
)

// SESAPI is the part of the SES v2 client SESEmail uses.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ SESAPI = (*sesv2.Client)(nil)

// SESEmail sends email through Amazon SES v2 (SendEmail with Simple
// content: the subject, a plain-text and, when the message has one, an HTML
// body, all UTF-8). The message's kind goes with it as the email tag "kind"
// (for SES event publishing). Its provider id is SES's MessageId.
type SESEmail struct {
	// Client is the SES v2 client (a *sesv2.Client in production).
	Client SESAPI
	// From is the sender address, e.g. "LabChain <no-reply@labchain.co.th>";
	// it must be a verified SES identity.
	From string
	// ConfigurationSet, when set, names the SES configuration set to use.
	ConfigurationSet string
}

var _ notify.Sender = (*SESEmail)(nil)

// tagValue is what SES accepts as an email tag value.
var tagValue = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Send sends m.Content to m.To. An empty recipient or an empty message is a
// permanent error; SES's errors are classified as the package comment says
// (MessageRejected, BadRequestException → permanent; throttling, 5xx,
// suspended or paused sending → transient).
func (s *SESEmail) Send(ctx context.Context, m notify.Message) (string, error) {
	if m.To == "" {
		return "", apperr.MarkPermanent(errors.New("ses: no recipient address"))
	}
	if m.Content.Subject == "" || m.Content.Text == "" {
		return "", apperr.MarkPermanent(errors.New("ses: an email needs a subject and a text body"))
	}
	body := &types.Body{Text: utf8(m.Content.Text)}
	if m.Content.HTML != "" {
		body.Html = utf8(m.Content.HTML)
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: utf8(m.Content.Subject),
			Body:    body,
		}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if tagValue.MatchString(string(m.Kind)) {
		in.EmailTags = []types.MessageTag{{Name: aws.String("kind"), Value: aws.String(string(m.Kind))}}
	}
	out, err := s.Client.SendEmail(ctx, in)
	if err != nil {
		return "", classifyAWS("ses: SendEmail", err)
	}
	return aws.ToString(out.MessageId), nil
}

func utf8(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}
