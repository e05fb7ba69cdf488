package consumer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/memstore"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const testARN = "arn:aws:sqs:ap-southeast-1:123456789012:bookings"

// secret is personal data put in message bodies: it must never appear in
// logs, span attributes or failure attributes.
const secret = "Somchai-0812345678"

// testMsg is a message type like a real consumer's.
type testMsg struct {
	Version int        `json:"version"`
	EventID string     `json:"eventId"`
	Patient string     `json:"patient,omitempty"`
	Action  string     `json:"action,omitempty"` // drives the test handler
	Items   []testItem `json:"items,omitempty"`
}

type testItem struct {
	Code string `json:"code"`
}

func (m testMsg) DedupeKey() string { return m.EventID }

func (m testMsg) Validate() error {
	if m.Version != 1 {
		return fmt.Errorf("%w %d", apperr.ErrUnknownVersion, m.Version)
	}
	if m.Action == "invalid" {
		return errors.New("action is not allowed")
	}
	return nil
}

// body returns a version-1 message body.
func body(eventID, action string) string {
	b, _ := json.Marshal(testMsg{Version: 1, EventID: eventID, Patient: secret, Action: action})
	return string(b)
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId:      id,
		ReceiptHandle:  "rh-" + id,
		Body:           body,
		EventSource:    "aws:sqs",
		EventSourceARN: testARN,
		AWSRegion:      "ap-southeast-1",
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    "1764060000000",
			"SenderId":                         "AIDAEXAMPLE",
			"ApproximateFirstReceiveTimestamp": "1764060000100",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
	}
}

func event(recs ...events.SQSMessage) events.SQSEvent { return events.SQSEvent{Records: recs} }

// memStore is the in-memory store (shared/memstore, which passes the same
// contract as the DynamoDB store) recording the calls, with an injectable
// Begin failure.
type memStore struct {
	*memstore.Store
	mu       sync.Mutex
	beginErr error
	calls    []string // "begin k", "complete k", "release k"
}

func newMemStore() *memStore { return &memStore{Store: memstore.New()} }

func (m *memStore) record(call string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, call)
	if strings.HasPrefix(call, "begin ") {
		return m.beginErr
	}
	return nil
}

func (m *memStore) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	if err := m.record("begin " + rec.Key); err != nil {
		return nil, err
	}
	return m.Store.Begin(ctx, rec, now)
}

func (m *memStore) Complete(ctx context.Context, c *idempotency.Claim, status int, body []byte) error {
	_ = m.record("complete " + c.Key)
	return m.Store.Complete(ctx, c, status, body)
}

func (m *memStore) Release(ctx context.Context, c *idempotency.Claim) error {
	_ = m.record("release " + c.Key)
	return m.Store.Release(ctx, c)
}

func (m *memStore) get(key string) (idempotency.Record, bool) { return m.IdempotencyRecord(key) }

func (m *memStore) count(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// fakeDLQ records dead letters.
type fakeDLQ struct {
	mu   sync.Mutex
	sent []DeadLetter
	err  error
}

func (f *fakeDLQ) SendDeadLetter(_ context.Context, dl DeadLetter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, dl)
	return nil
}

func (f *fakeDLQ) letters() []DeadLetter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DeadLetter(nil), f.sent...)
}

// byOriginalID returns the dead letter of a message id.
func (f *fakeDLQ) byOriginalID(t *testing.T, id string) DeadLetter {
	t.Helper()
	for _, dl := range f.letters() {
		if a, ok := dl.Attributes[AttrOriginalMessageID]; ok && *a.StringValue == id {
			return dl
		}
	}
	t.Fatalf("no dead letter for %s", id)
	return DeadLetter{}
}

// effects counts handler runs per dedupe key.
type effects struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *effects) add(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	e.n[k]++
}

func (e *effects) get(k string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[k]
}

func (e *effects) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := 0
	for _, n := range e.n {
		t += n
	}
	return t
}

// testNow is the clock of the consumers that hold messages: the handler's
// hold times are counted from it.
var testNow = time.Date(2026, 12, 2, 2, 30, 0, 0, time.UTC)

// actionHandler is a handler driven by the message's Action.
func actionHandler(eff *effects) func(context.Context, testMsg, Meta) error {
	return func(_ context.Context, m testMsg, _ Meta) error {
		switch m.Action {
		case "transient":
			return errors.New("downstream unavailable")
		case "notfound":
			return apperr.E(apperr.NotFound, "appointment not found")
		case "permanent":
			return apperr.MarkPermanent(errors.New("appointment can never exist"))
		case "panic":
			panic("handler bug")
		case "later":
			return apperr.HoldUntil(testNow.Add(7*time.Hour), "held until the morning")
		case "much-later":
			return apperr.HoldUntil(testNow.Add(72*time.Hour), "held for days")
		}
		eff.add(m.EventID)
		return nil
	}
}

// bg is a background context whose logs and metrics are discarded.
func bg() context.Context {
	ctx := lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelDebug))
	return lambdakit.WithMetricsWriter(ctx, io.Discard, "fn")
}

// captured is a context whose logs and metrics go to buffers.
type captured struct {
	ctx     context.Context
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func capture() captured {
	c := captured{logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	ctx := lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(&syncWriter{w: c.logs}, slog.LevelDebug))
	c.ctx = lambdakit.WithMetricsWriter(ctx, c.metrics, "fn")
	return c
}

// syncWriter serialises writes from concurrent records.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// failedIDs returns the ids in a response.
func failedIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func newTestConsumer(t *testing.T, opts Options, eff *effects) (*Consumer[testMsg], *memStore, *fakeDLQ) {
	t.Helper()
	store, dlq := newMemStore(), &fakeDLQ{}
	if opts.Name == "" {
		opts.Name = "test"
	}
	if opts.Store == nil {
		opts.Store = store
	}
	if opts.DeadLetters == nil {
		opts.DeadLetters = dlq
	}
	return New(opts, actionHandler(eff)), store, dlq
}
