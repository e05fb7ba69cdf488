package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/labchain/appointments/shared/apperr"
	"io"
	"net/http"
	"time"

	"github.com/labchain/appointments/shared/notify"
)

// Sink sends messages to the local platform's message sink (POST
// /_local/messages of `make dev`), which keeps them for tests and for a
// developer to read, instead of sending SMS or push notifications. The
// request body is the JSON SinkRequest; a 2xx answer carries {"id": "..."},
// the provider id.
type Sink struct {
	// URL is the sink's URL, e.g. "http://127.0.0.1:3000/_local/messages".
	URL string
	// Client is the HTTP client; default one with a 10 s timeout.
	Client *http.Client
}

var _ notify.Sender = (*Sink)(nil)

// SinkRequest is the body Sink posts.
type SinkRequest struct {
	Channel notify.Channel `json:"channel"`
	Kind    notify.Kind    `json:"kind"`
	To      string         `json:"to"`
	Subject string         `json:"subject"`
	Text    string         `json:"text"`
	Key     string         `json:"key"`
}

var defaultSinkClient = &http.Client{Timeout: 10 * time.Second}

// Send posts m to the sink. A 4xx answer other than 429 is a permanent
// error; 429, 5xx and network errors are transient.
func (s *Sink) Send(ctx context.Context, m notify.Message) (string, error) {
	body, err := json.Marshal(SinkRequest{
		Channel: m.Channel, Kind: m.Kind, To: m.To,
		Subject: m.Content.Subject, Text: m.Content.Text, Key: m.Key,
	})
	if err != nil {
		return "", apperr.MarkPermanent(fmt.Errorf("sink: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("sink: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = defaultSinkClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("sink: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("sink: read the answer: %w", err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
			return "", fmt.Errorf("sink: %d answer without an id: %.200s", resp.StatusCode, data)
		}
		return out.ID, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return "", apperr.MarkPermanent(fmt.Errorf("sink: %s: %.200s", resp.Status, data))
	default:
		return "", fmt.Errorf("sink: %s: %.200s", resp.Status, data)
	}
}
