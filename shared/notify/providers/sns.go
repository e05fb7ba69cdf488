package providers

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/labchain/appointments/shared/apperr"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/labchain/appointments/shared/notify"
)

// SNSPublisher is the part of the SNS client SNSSMS uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSPushAPI is the part of the SNS client SNSPush uses.
type SNSPushAPI interface {
	SNSPublisher
	CreatePlatformEndpoint(ctx context.Context, in *sns.CreatePlatformEndpointInput, optFns ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
}

var (
	_ SNSPublisher = (*sns.Client)(nil)
	_ SNSPushAPI   = (*sns.Client)(nil)
)

// SMS message attributes of SNS.
const (
	smsTypeAttribute     = "AWS.SNS.SMS.SMSType"
	smsSenderIDAttribute = "AWS.SNS.SMS.SenderID"
)

// e164 is an E.164 phone number: "+", a country code, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// SNSSMS sends SMS through Amazon SNS (Publish to a phone number) as
// Transactional messages, with SenderID when set. Its provider id is SNS's
// MessageId.
type SNSSMS struct {
	// Client is the SNS client (a *sns.Client in production).
	Client SNSPublisher
	// SenderID, when set, is the alphanumeric sender id (1–11 letters and
	// digits) shown where the destination country supports one.
	SenderID string
}

var _ notify.Sender = (*SNSSMS)(nil)

// Send publishes m.Content.Text to the phone number m.To. A number that is
// not E.164 or an empty text is a permanent error without calling SNS; SNS's
// InvalidParameter, OptedOut and other message errors are permanent,
// throttling and server errors transient.
func (s *SNSSMS) Send(ctx context.Context, m notify.Message) (string, error) {
	if !e164.MatchString(m.To) {
		return "", apperr.MarkPermanent(errors.New("sns sms: the recipient is not an E.164 phone number"))
	}
	if m.Content.Text == "" {
		return "", apperr.MarkPermanent(errors.New("sns sms: empty text"))
	}
	attrs := map[string]types.MessageAttributeValue{
		smsTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if s.SenderID != "" {
		attrs[smsSenderIDAttribute] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.SenderID)}
	}
	out, err := s.Client.Publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(m.To),
		Message:           aws.String(m.Content.Text),
		MessageAttributes: attrs,
	})
	if err != nil {
		return "", classifyAWS("sns sms: Publish", err)
	}
	return aws.ToString(out.MessageId), nil
}

// SNSPush sends mobile push notifications through Amazon SNS: it creates (or,
// SNS being idempotent for the same token and attributes, finds) the platform
// endpoint of the device token m.To on PlatformApplicationARN, then publishes
// to that endpoint a JSON message with a payload for FCM (key GCM, the FCM
// HTTP v1 format) and for APNs (APNS and APNS_SANDBOX), each with the title
// (Content.Subject) and body (Content.Text), and the kind as data. Its
// provider id is SNS's MessageId.
type SNSPush struct {
	// Client is the SNS client (a *sns.Client in production).
	Client SNSPushAPI
	// PlatformApplicationARN is the SNS platform application (FCM or APNs)
	// the device tokens belong to.
	PlatformApplicationARN string
}

var _ notify.Sender = (*SNSPush)(nil)

// Send pushes m to the device token m.To. An empty token or body is a
// permanent error without calling SNS; a token SNS refuses
// (InvalidParameter) and a disabled endpoint (EndpointDisabled: the platform
// said the token is no longer valid) are permanent; throttling and server
// errors are transient.
func (s *SNSPush) Send(ctx context.Context, m notify.Message) (string, error) {
	if m.To == "" {
		return "", apperr.MarkPermanent(errors.New("sns push: no device token"))
	}
	if m.Content.Text == "" {
		return "", apperr.MarkPermanent(errors.New("sns push: empty body"))
	}
	msg, err := pushMessage(m)
	if err != nil {
		return "", apperr.MarkPermanent(err)
	}
	ep, err := s.Client.CreatePlatformEndpoint(ctx, &sns.CreatePlatformEndpointInput{
		PlatformApplicationArn: aws.String(s.PlatformApplicationARN),
		Token:                  aws.String(m.To),
	})
	if err != nil {
		return "", classifyAWS("sns push: CreatePlatformEndpoint", err)
	}
	out, err := s.Client.Publish(ctx, &sns.PublishInput{
		TargetArn:        ep.EndpointArn,
		MessageStructure: aws.String("json"),
		Message:          aws.String(msg),
	})
	if err != nil {
		return "", classifyAWS("sns push: Publish", err)
	}
	return aws.ToString(out.MessageId), nil
}

// pushMessage is the JSON message of MessageStructure "json": one string
// per platform, each itself a JSON document.
func pushMessage(m notify.Message) (string, error) {
	data := map[string]string{"kind": string(m.Kind)}
	fcm := map[string]any{"fcmV1Message": map[string]any{"message": map[string]any{
		"notification": map[string]string{"title": m.Content.Subject, "body": m.Content.Text},
		"data":         data,
	}}}
	apns := map[string]any{
		"aps":  map[string]any{"alert": map[string]string{"title": m.Content.Subject, "body": m.Content.Text}},
		"kind": string(m.Kind),
	}
	fcmJSON, err := json.Marshal(fcm)
	if err != nil {
		return "", err
	}
	apnsJSON, err := json.Marshal(apns)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(map[string]string{
		"default":      m.Content.Text,
		"GCM":          string(fcmJSON),
		"APNS":         string(apnsJSON),
		"APNS_SANDBOX": string(apnsJSON),
	})
	return string(out), err
}
