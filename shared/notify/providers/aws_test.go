package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labchain/appointments/shared/apperr"
	"net"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/labchain/appointments/shared/notify"
)

// fakeSES records SendEmail calls and answers with err (or a message id).
type fakeSES struct {
	calls []*sesv2.SendEmailInput
	err   error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	id := "ses-1"
	return &sesv2.SendEmailOutput{MessageId: &id}, nil
}

// fakeSNS records calls; publishErr and createErr are returned by the calls.
type fakeSNS struct {
	publishes  []*sns.PublishInput
	creates    []*sns.CreatePlatformEndpointInput
	publishErr error
	createErr  error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.publishes = append(f.publishes, in)
	if f.publishErr != nil {
		return nil, f.publishErr
	}
	id := fmt.Sprintf("sns-%d", len(f.publishes))
	return &sns.PublishOutput{MessageId: &id}, nil
}

func (f *fakeSNS) CreatePlatformEndpoint(_ context.Context, in *sns.CreatePlatformEndpointInput, _ ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error) {
	f.creates = append(f.creates, in)
	if f.createErr != nil {
		return nil, f.createErr
	}
	arn := "arn:aws:sns:ap-southeast-1:123456789012:endpoint/GCM/app/" + *in.Token
	return &sns.CreatePlatformEndpointOutput{EndpointArn: &arn}, nil
}

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "test " + code, Fault: fault}
}

// sdkErr wraps an API error as the SDK returns it: an OperationError around
// an HTTP response error with the status code.
func sdkErr(status int, api error) error {
	return &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: api},
		RequestID:     "req-1",
	}}
}

func TestClassifyAWS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"Throttling", apiErr("Throttling", smithy.FaultClient), false},
		{"ThrottlingException", apiErr("ThrottlingException", smithy.FaultClient), false},
		{"TooManyRequestsException", apiErr("TooManyRequestsException", smithy.FaultClient), false},
		{"SNS Throttled", sdkErr(400, apiErr("Throttled", smithy.FaultClient)), false},
		{"InternalError", apiErr("InternalError", smithy.FaultServer), false},
		{"ServiceUnavailable", apiErr("ServiceUnavailable", smithy.FaultServer), false},
		{"unknown 503", sdkErr(503, apiErr("SomethingNew", smithy.FaultUnknown)), false},
		{"unknown server fault", apiErr("SomethingNew", smithy.FaultServer), false},
		{"429 without a known code", sdkErr(429, apiErr("Whatever", smithy.FaultClient)), false},
		{"account suspended", apiErr("AccountSuspendedException", smithy.FaultClient), false},
		{"sending paused", apiErr("SendingPausedException", smithy.FaultClient), false},
		{"authorization", sdkErr(403, apiErr("AuthorizationError", smithy.FaultClient)), false},
		{"platform application not found", sdkErr(404, apiErr("NotFound", smithy.FaultClient)), false},
		{"network", &smithy.OperationError{ServiceID: "SNS", OperationName: "Publish", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},

		{"MessageRejected", apiErr("MessageRejected", smithy.FaultClient), true},
		{"BadRequestException", sdkErr(400, apiErr("BadRequestException", smithy.FaultClient)), true},
		{"InvalidParameter", sdkErr(400, apiErr("InvalidParameter", smithy.FaultClient)), true},
		{"InvalidParameterValue", apiErr("InvalidParameterValue", smithy.FaultClient), true},
		{"EndpointDisabled", sdkErr(400, apiErr("EndpointDisabled", smithy.FaultClient)), true},
		{"OptedOut", apiErr("OptedOut", smithy.FaultClient), true},
		{"unknown client fault", apiErr("SomethingNew", smithy.FaultClient), true},
		{"unknown 400", sdkErr(400, apiErr("SomethingNew", smithy.FaultUnknown)), true},
		{"SDK parameter validation", &smithy.OperationError{Err: smithy.InvalidParamsError{Context: "PublishInput"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyAWS("op", tc.err)
			if apperr.IsPermanent(got) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", got, !tc.permanent, tc.permanent)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not wrap the original error", got)
			}
			var api smithy.APIError
			if errors.As(tc.err, &api) && !errors.As(got, &api) {
				t.Errorf("the API error is lost")
			}
		})
	}
	if classifyAWS("op", nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestSESEmail(t *testing.T) {
	f := &fakeSES{}
	s := &SESEmail{Client: f, From: "LabChain <no-reply@labchain.test>", ConfigurationSet: "transactional"}
	m := notify.Message{Channel: notify.ChannelEmail, Kind: notify.KindConfirmation, To: "somchai@example.com",
		Content: notify.Content{Subject: "ยืนยันการนัดหมาย", Text: "สวัสดีค่ะ", HTML: "<p>สวัสดีค่ะ</p>"}, Key: "k1"}
	id, err := s.Send(context.Background(), m)
	if err != nil || id != "ses-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if len(f.calls) != 1 {
		t.Fatalf("%d calls", len(f.calls))
	}
	in := f.calls[0]
	if *in.FromEmailAddress != s.From || len(in.Destination.ToAddresses) != 1 || in.Destination.ToAddresses[0] != m.To {
		t.Errorf("from/to = %v %v", *in.FromEmailAddress, in.Destination.ToAddresses)
	}
	if *in.ConfigurationSetName != "transactional" {
		t.Errorf("configuration set = %v", *in.ConfigurationSetName)
	}
	simple := in.Content.Simple
	for name, c := range map[string]struct{ got, want, charset string }{
		"subject": {*simple.Subject.Data, m.Content.Subject, *simple.Subject.Charset},
		"text":    {*simple.Body.Text.Data, m.Content.Text, *simple.Body.Text.Charset},
		"html":    {*simple.Body.Html.Data, m.Content.HTML, *simple.Body.Html.Charset},
	} {
		if c.got != c.want || c.charset != "UTF-8" {
			t.Errorf("%s = %q (%s), want %q (UTF-8)", name, c.got, c.charset, c.want)
		}
	}
	if len(in.EmailTags) != 1 || *in.EmailTags[0].Name != "kind" || *in.EmailTags[0].Value != "confirmation" {
		t.Errorf("tags = %+v", in.EmailTags)
	}

	// Text only: no HTML body.
	m.Content.HTML = ""
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if f.calls[1].Content.Simple.Body.Html != nil {
		t.Error("an HTML body without HTML content")
	}

	f.err = sdkErr(400, apiErr("MessageRejected", smithy.FaultClient))
	if _, err := s.Send(context.Background(), m); !apperr.IsPermanent(err) || !strings.Contains(err.Error(), "MessageRejected") {
		t.Errorf("MessageRejected: %v, want permanent", err)
	}
	f.err = apiErr("TooManyRequestsException", smithy.FaultClient)
	if _, err := s.Send(context.Background(), m); err == nil || apperr.IsPermanent(err) {
		t.Errorf("TooManyRequestsException: %v, want transient", err)
	}
	calls := len(f.calls)
	if _, err := s.Send(context.Background(), notify.Message{Content: m.Content}); !apperr.IsPermanent(err) {
		t.Errorf("no recipient: %v, want permanent", err)
	}
	if len(f.calls) != calls {
		t.Error("SES called without a recipient")
	}
}

func TestSNSSMS(t *testing.T) {
	f := &fakeSNS{}
	s := &SNSSMS{Client: f, SenderID: "LabChain"}
	m := notify.Message{Channel: notify.ChannelSMS, Kind: notify.KindReminder, To: "+66812345678", Content: notify.Content{Text: "พรุ่งนี้ 08:00 งดอาหาร 8 ชม."}}
	id, err := s.Send(context.Background(), m)
	if err != nil || id != "sns-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	in := f.publishes[0]
	if *in.PhoneNumber != m.To || *in.Message != m.Content.Text || in.TargetArn != nil || in.TopicArn != nil {
		t.Errorf("publish = %+v", in)
	}
	want := map[string]string{"AWS.SNS.SMS.SMSType": "Transactional", "AWS.SNS.SMS.SenderID": "LabChain"}
	if len(in.MessageAttributes) != len(want) {
		t.Errorf("attributes = %v", in.MessageAttributes)
	}
	for k, v := range want {
		a := in.MessageAttributes[k]
		if a.DataType == nil || *a.DataType != "String" || a.StringValue == nil || *a.StringValue != v {
			t.Errorf("attribute %s = %+v, want String %q", k, a, v)
		}
	}

	s.SenderID = ""
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.publishes[1].MessageAttributes["AWS.SNS.SMS.SenderID"]; ok {
		t.Error("a sender id attribute without a sender id")
	}

	for _, bad := range []string{"0812345678", "+66-81-234-5678", "", "+0812345678"} {
		m.To = bad
		if _, err := s.Send(context.Background(), m); !apperr.IsPermanent(err) {
			t.Errorf("To %q: %v, want permanent", bad, err)
		}
	}
	if len(f.publishes) != 2 {
		t.Errorf("SNS called for invalid numbers: %d publishes", len(f.publishes))
	}
	m.To = "+66812345678"
	f.publishErr = sdkErr(400, apiErr("InvalidParameter", smithy.FaultClient))
	if _, err := s.Send(context.Background(), m); !apperr.IsPermanent(err) {
		t.Errorf("InvalidParameter: %v, want permanent", err)
	}
	f.publishErr = sdkErr(500, apiErr("InternalError", smithy.FaultServer))
	if _, err := s.Send(context.Background(), m); err == nil || apperr.IsPermanent(err) {
		t.Errorf("InternalError: %v, want transient", err)
	}
}

func TestSNSPush(t *testing.T) {
	const app = "arn:aws:sns:ap-southeast-1:123456789012:app/GCM/labchain"
	f := &fakeSNS{}
	s := &SNSPush{Client: f, PlatformApplicationARN: app}
	m := notify.Message{Channel: notify.ChannelPush, Kind: notify.KindResultsReady, To: "device-token-1",
		Content: notify.Content{Subject: "ผลตรวจพร้อมแล้ว", Text: "ดูผลได้ในแอป \"LabChain\""}}
	id, err := s.Send(context.Background(), m)
	if err != nil || id != "sns-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if len(f.creates) != 1 || *f.creates[0].PlatformApplicationArn != app || *f.creates[0].Token != m.To || f.creates[0].Attributes != nil {
		t.Fatalf("CreatePlatformEndpoint = %+v", f.creates)
	}
	in := f.publishes[0]
	if *in.TargetArn != app[:strings.Index(app, ":app/")]+":endpoint/GCM/app/device-token-1" || *in.MessageStructure != "json" {
		t.Errorf("publish target %v structure %v", *in.TargetArn, *in.MessageStructure)
	}
	var outer map[string]string
	if err := json.Unmarshal([]byte(*in.Message), &outer); err != nil {
		t.Fatalf("message is not JSON: %v", err)
	}
	if outer["default"] != m.Content.Text {
		t.Errorf("default = %q", outer["default"])
	}
	var fcm struct {
		FCM struct {
			Message struct {
				Notification struct{ Title, Body string } `json:"notification"`
				Data         map[string]string            `json:"data"`
			} `json:"message"`
		} `json:"fcmV1Message"`
	}
	if err := json.Unmarshal([]byte(outer["GCM"]), &fcm); err != nil {
		t.Fatalf("GCM: %v: %s", err, outer["GCM"])
	}
	if n := fcm.FCM.Message.Notification; n.Title != m.Content.Subject || n.Body != m.Content.Text || fcm.FCM.Message.Data["kind"] != "results_ready" {
		t.Errorf("GCM = %s", outer["GCM"])
	}
	for _, key := range []string{"APNS", "APNS_SANDBOX"} {
		var apns struct {
			APS struct {
				Alert struct{ Title, Body string } `json:"alert"`
			} `json:"aps"`
		}
		if err := json.Unmarshal([]byte(outer[key]), &apns); err != nil {
			t.Fatalf("%s: %v: %s", key, err, outer[key])
		}
		if apns.APS.Alert.Title != m.Content.Subject || apns.APS.Alert.Body != m.Content.Text {
			t.Errorf("%s = %s", key, outer[key])
		}
	}

	f.publishErr = sdkErr(400, apiErr("EndpointDisabled", smithy.FaultClient))
	if _, err := s.Send(context.Background(), m); !apperr.IsPermanent(err) || !strings.Contains(err.Error(), "Publish") {
		t.Errorf("EndpointDisabled: %v, want permanent", err)
	}
	f.publishErr = nil
	f.createErr = sdkErr(400, apiErr("InvalidParameter", smithy.FaultClient))
	publishes := len(f.publishes)
	if _, err := s.Send(context.Background(), m); !apperr.IsPermanent(err) || !strings.Contains(err.Error(), "CreatePlatformEndpoint") {
		t.Errorf("invalid token: %v, want permanent", err)
	}
	if len(f.publishes) != publishes {
		t.Error("published after CreatePlatformEndpoint failed")
	}
	f.createErr = apiErr("Throttling", smithy.FaultClient)
	if _, err := s.Send(context.Background(), m); err == nil || apperr.IsPermanent(err) {
		t.Errorf("Throttling: %v, want transient", err)
	}
	f.createErr = nil
	if _, err := s.Send(context.Background(), notify.Message{Content: m.Content}); !apperr.IsPermanent(err) {
		t.Errorf("no token: %v, want permanent", err)
	}
}
