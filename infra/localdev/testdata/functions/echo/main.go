// Command echo is the test Lambda of package localdev: it answers an API
// Gateway HTTP API (payload 2.0) event with the event it received and a few
// environment variables, so the tests can check exactly what the local gateway
// sends. The "mode" query parameter selects other behaviours: "error" returns a
// function error, "panic" panics, "sleep" sleeps "ms" milliseconds, "raw"
// returns a value that is not a response object, "binary" returns a base64 body
// with cookies and multi-value headers. A POST is answered 201, and every
// normal answer carries a fresh "id", so the platform's seeding can run
// against this function.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// reply is the body of a normal answer.
type reply struct {
	ID    string            `json:"id"`
	Event json.RawMessage   `json:"event"`
	Env   map[string]string `json:"env"`
	PID   int               `json:"pid"`
}

var envKeys = []string{
	"ENVIRONMENT", "LOG_LEVEL", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "TABLE_NAME",
	"AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "TZ",
	"OTEL_TRACES_SAMPLER", "AWS_LAMBDA_LOG_FORMAT", "HOME",
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch ev.QueryStringParameters["mode"] {
	case "error":
		return nil, errors.New("echo: requested failure")
	case "panic":
		panic("echo: requested panic")
	case "sleep":
		ms, _ := strconv.Atoi(ev.QueryStringParameters["ms"])
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			// Keep running past the deadline, as a stuck function would.
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	case "raw":
		return map[string]any{"hello": "world"}, nil
	case "binary":
		return events.APIGatewayV2HTTPResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "application/octet-stream"},
			MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
			Cookies:           []string{"a=1; Path=/", "b=2; HttpOnly"},
			Body:              base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
			IsBase64Encoded:   true,
		}, nil
	}
	env := map[string]string{}
	for _, k := range envKeys {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	body, err := json.Marshal(reply{ID: hex.EncodeToString(id), Event: raw, Env: env, PID: os.Getpid()})
	if err != nil {
		return nil, err
	}
	status := 200
	if ev.RequestContext.HTTP.Method == "POST" {
		status = 201
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

func main() {
	lambda.Start(handle)
}
