// Command notifier is a test Lambda of package localdev: it sends the
// message of the request body through the senders the notification function
// uses (shared/notify/providers, configured from its environment), so the
// tests can check that the platform's parameters route email to Mailpit and
// SMS and push to the message sink. It answers 200 {"providerId": …}, or 502
// {"error": …, "permanent": …} when the send failed.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/labchain/appointments/shared/apperr"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/notify/providers"
)

type request struct {
	Channel notify.Channel `json:"channel"`
	Kind    notify.Kind    `json:"kind"`
	To      string         `json:"to"`
	Subject string         `json:"subject"`
	Text    string         `json:"text"`
	HTML    string         `json:"html"`
	Key     string         `json:"key"`
}

func handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded { // a body sent without a JSON content type
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return answer(400, map[string]any{"error": err.Error()}), nil
		}
		body = b
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return answer(400, map[string]any{"error": err.Error()}), nil
	}
	cfg, err := providers.ConfigFromEnv(os.Getenv)
	if err != nil {
		return answer(500, map[string]any{"error": err.Error()}), nil
	}
	senders, err := providers.Senders(cfg, aws.Config{Region: os.Getenv("AWS_REGION")})
	if err != nil {
		return answer(500, map[string]any{"error": err.Error()}), nil
	}
	s, ok := senders[req.Channel]
	if !ok {
		return answer(400, map[string]any{"error": "no sender for channel " + string(req.Channel)}), nil
	}
	id, err := s.Send(ctx, notify.Message{
		Channel: req.Channel, Kind: req.Kind, To: req.To, Key: req.Key,
		Content: notify.Content{Subject: req.Subject, Text: req.Text, HTML: req.HTML},
	})
	if err != nil {
		return answer(502, map[string]any{"error": err.Error(), "permanent": apperr.IsPermanent(err)}), nil
	}
	return answer(200, map[string]any{"providerId": id, "sender": senderName(s)}), nil
}

func senderName(s notify.Sender) string {
	switch s.(type) {
	case *providers.SMTP:
		return "smtp"
	case *providers.Sink:
		return "sink"
	case *providers.SESEmail:
		return "ses"
	case *providers.SNSSMS, *providers.SNSPush:
		return "sns"
	}
	return "?"
}

func answer(status int, body any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(body)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

func main() {
	lambda.Start(handle)
}
