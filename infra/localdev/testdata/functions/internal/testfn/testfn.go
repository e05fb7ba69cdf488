// Package testfn is the handler of the event-source test functions of
// package localdev (queue-consumer, stream-consumer, scheduled). It records
// every invocation as one JSON line in $RECORD_DIR/<function>.jsonl and
// behaves as the records ask:
//
//   - SQS: the body {"key": k, "mode": m, "sleepMs": n}; mode "fail-item"
//     reports the message as a batch item failure, "fail-batch" returns a
//     function error, "bad-id" and "empty-id" report an identifier that is
//     not in the batch or empty;
//   - DynamoDB: the NewImage's "mode" attribute; "fail-batch" returns a
//     function error, "fail-item-once" reports the record's sequence number
//     as failed the first time it is seen;
//   - anything else (schedules): answered with {"got": <payload>}.
package testfn

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Invocation is one line of the record file.
type Invocation struct {
	Start   int64             `json:"start"` // unix nanoseconds
	End     int64             `json:"end"`
	Keys    []string          `json:"keys"`
	Items   []string          `json:"items"` // message ids or sequence numbers
	Counts  []string          `json:"counts,omitempty"`
	Event   json.RawMessage   `json:"event"`
	Outcome string            `json:"outcome"`
	Env     map[string]string `json:"env"`
}

type probe struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
}

// Start runs the handler.
func Start() { lambda.Start(handle) }

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var p probe
	_ = json.Unmarshal(raw, &p)
	inv := Invocation{Start: time.Now().UnixNano(), Event: raw,
		Env: map[string]string{"AWS_ENDPOINT_URL_SQS": os.Getenv("AWS_ENDPOINT_URL_SQS")}}
	var out any
	var err error
	switch {
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:sqs":
		out, err = handleSQS(raw, &inv)
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:dynamodb":
		out, err = handleStream(raw, &inv)
	default:
		out = map[string]any{"got": raw}
		inv.Outcome = "ok"
	}
	inv.End = time.Now().UnixNano()
	if err != nil {
		inv.Outcome = "error"
	}
	record(inv)
	return out, err
}

type body struct {
	Key     string `json:"key"`
	Mode    string `json:"mode"`
	SleepMs int    `json:"sleepMs"`
}

func handleSQS(raw json.RawMessage, inv *Invocation) (any, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	resp := events.SQSEventResponse{}
	fail := false
	bench := false
	sleep := 0
	for _, m := range ev.Records {
		var b body
		_ = json.Unmarshal([]byte(m.Body), &b)
		inv.Keys = append(inv.Keys, b.Key)
		inv.Items = append(inv.Items, m.MessageId)
		inv.Counts = append(inv.Counts, m.Attributes["ApproximateReceiveCount"])
		sleep = max(sleep, b.SleepMs)
		switch b.Mode {
		case "fail-item":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		case "bad-id":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: "not-in-this-batch"})
		case "empty-id":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ""})
		case "fail-batch":
			fail = true
		case "bench":
			bench = true
		}
	}
	if bench {
		inv.Outcome = "bench"
	}
	time.Sleep(time.Duration(sleep) * time.Millisecond)
	if fail {
		return nil, errors.New("testfn: requested batch failure")
	}
	if inv.Outcome == "" {
		inv.Outcome = "ok"
	}
	return resp, nil
}

func handleStream(raw json.RawMessage, inv *Invocation) (any, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	resp := events.DynamoDBEventResponse{}
	fail := false
	for _, r := range ev.Records {
		img := r.Change.NewImage
		if img == nil {
			img = r.Change.OldImage
		}
		key := ""
		if v, ok := img["PK"]; ok {
			key = v.String()
		}
		inv.Keys = append(inv.Keys, key)
		inv.Items = append(inv.Items, r.Change.SequenceNumber)
		mode := ""
		if v, ok := img["mode"]; ok {
			mode = v.String()
		}
		switch mode {
		case "fail-batch":
			fail = true
		case "fail-item-once":
			if firstTime(key) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
		}
	}
	if fail {
		return nil, errors.New("testfn: requested batch failure")
	}
	inv.Outcome = "ok"
	return resp, nil
}

// firstTime reports whether key is seen for the first time (a marker file).
func firstTime(key string) bool {
	dir := os.Getenv("RECORD_DIR")
	if dir == "" {
		return false
	}
	f, err := os.OpenFile(filepath.Join(dir, "seen-"+strings.ReplaceAll(key, "/", "_")), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func record(inv Invocation) {
	dir := os.Getenv("RECORD_DIR")
	if dir == "" || inv.Outcome == "bench" {
		return
	}
	line, err := json.Marshal(inv)
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, os.Getenv("AWS_LAMBDA_FUNCTION_NAME")+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}
