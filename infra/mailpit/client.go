package mailpit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to Mailpit's JSON API (/api/v1). It is safe for concurrent
// use.
type Client struct {
	// URL is Mailpit's base URL, e.g. "http://127.0.0.1:8025".
	URL string
	// HTTP is the HTTP client; default one with a 10 s timeout.
	HTTP *http.Client
}

// NewClient returns a client for the Mailpit at baseURL.
func NewClient(baseURL string) *Client {
	return &Client{URL: strings.TrimSuffix(baseURL, "/")}
}

// Address is a mailbox of a message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message as Mailpit lists it.
type Summary struct {
	// ID is Mailpit's id of the message (for Message).
	ID string `json:"ID"`
	// MessageID is the Message-ID header without angle brackets.
	MessageID string    `json:"MessageID"`
	From      *Address  `json:"From"`
	To        []Address `json:"To"`
	// Subject is decoded (RFC 2047).
	Subject string    `json:"Subject"`
	Created time.Time `json:"Created"`
	Snippet string    `json:"Snippet"`
	Size    int       `json:"Size"`
}

// Full is one message with its decoded bodies.
type Full struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      *Address  `json:"From"`
	To        []Address `json:"To"`
	Cc        []Address `json:"Cc"`
	Subject   string    `json:"Subject"`
	Date      time.Time `json:"Date"`
	// Text is the plain-text body, HTML the HTML body, both decoded to UTF-8.
	Text string `json:"Text"`
	HTML string `json:"HTML"`
	Size int    `json:"Size"`
}

// Info is Mailpit's /api/v1/info answer (the fields tests use).
type Info struct {
	Version  string `json:"Version"`
	Messages int    `json:"Messages"`
}

// ChaosTrigger makes Mailpit's SMTP server answer ErrorCode (400–599) with
// Probability percent (0 turns it off).
type ChaosTrigger struct {
	ErrorCode   int `json:"ErrorCode"`
	Probability int `json:"Probability"`
}

// Chaos is the set of chaos triggers (Options.Chaos must be on): Sender
// fails MAIL FROM, Recipient fails RCPT TO. A zero trigger is off.
type Chaos struct {
	Sender    ChaosTrigger `json:"Sender"`
	Recipient ChaosTrigger `json:"Recipient"`
}

// Info returns Mailpit's version and message count.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.do(ctx, http.MethodGet, "/api/v1/info", nil, &out)
	return out, err
}

// Messages returns every stored message, newest first (as Mailpit lists
// them).
func (c *Client) Messages(ctx context.Context) ([]Summary, error) {
	const page = 250
	var all []Summary
	for {
		var out struct {
			Total    int       `json:"total"`
			Messages []Summary `json:"messages"`
		}
		q := url.Values{"start": {fmt.Sprint(len(all))}, "limit": {fmt.Sprint(page)}}
		if err := c.do(ctx, http.MethodGet, "/api/v1/messages?"+q.Encode(), nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Messages...)
		if len(out.Messages) == 0 || len(all) >= out.Total {
			return all, nil
		}
	}
}

// Message returns the message with Mailpit's id (Summary.ID).
func (c *Client) Message(ctx context.Context, id string) (Full, error) {
	var out Full
	err := c.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Headers returns the message's headers as they were received (values not
// decoded).
func (c *Client) Headers(ctx context.Context, id string) (map[string][]string, error) {
	var out map[string][]string
	err := c.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id)+"/headers", nil, &out)
	return out, err
}

// DeleteAll deletes every message.
func (c *Client) DeleteAll(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/messages", nil, nil)
}

// SetChaos sets the SMTP server's chaos triggers (Options.Chaos must be on);
// Chaos{} turns them all off.
func (c *Client) SetChaos(ctx context.Context, ch Chaos) error {
	return c.do(ctx, http.MethodPut, "/api/v1/chaos", ch, nil)
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = httpClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit: %s %s: %s: %.200s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	return nil
}
