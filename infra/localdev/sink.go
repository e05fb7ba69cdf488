package localdev

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The message sink stands in for SMS and push providers locally: the
// notification function's Sink sender (shared/notify/providers) posts each
// message to it, and tests and developers read them back. Fault injection
// makes it refuse sends, to exercise the callers' retries.
//
//	POST   /_local/messages  {"channel","kind","to","subject","text","key"}
//	                         → 201 the stored SinkMessage (with "id");
//	                           400 when channel is not sms|email|push or to is empty;
//	                           the fault's status when a fault matches (not stored)
//	GET    /_local/messages?channel=sms&to=%2B66…&key=…   (each filter optional)
//	                         → 200 {"items":[SinkMessage…]}, oldest first
//	DELETE /_local/messages  → 200 {"deleted":n}; also resets the attempt counts
//	POST   /_local/faults    {"channel":"sms","to":"+66…","status":503,"count":3}
//	                         → 201 the SinkFault; channel and to are optional
//	                           (empty matches any), status 400–599, count > 0 the
//	                           next count matching sends, 0 or -1 until cleared
//	GET    /_local/faults    → 200 {"items":[SinkFault…],"rejected":n}
//	DELETE /_local/faults    → 200 {"deleted":n}; also resets rejected
//
// A refused send is answered {"message":"injected fault","fault":"<id>"} and
// counted: in its fault's hits, in rejected, and in the attempts of the next
// stored message with the same key.

// SinkMessage is a message the sink stored.
type SinkMessage struct {
	// ID is the sink's id ("msg-1", "msg-2", …), the sender's provider id.
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Key     string `json:"key"`
	// Attempts is how many sends with this Key the sink has seen, refused
	// ones and this one included (1 for an empty key).
	Attempts   int       `json:"attempts"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// SinkFilter selects messages; an empty field matches any.
type SinkFilter struct {
	Channel, To, Key string
}

// SinkFault makes the sink answer Status to the sends it matches instead of
// storing them.
type SinkFault struct {
	// ID is the sink's id ("fault-1", …); set by the sink.
	ID string `json:"id"`
	// Channel and To select the sends; empty matches any.
	Channel string `json:"channel,omitempty"`
	To      string `json:"to,omitempty"`
	// Status is the HTTP status to answer, 400–599.
	Status int `json:"status"`
	// Count is how many sends to refuse; 0 or -1 means until cleared.
	Count int `json:"count"`
	// Remaining is how many sends it will still refuse (-1: no limit); set
	// by the sink.
	Remaining int `json:"remaining"`
	// Hits is how many sends it refused; set by the sink.
	Hits int `json:"hits"`
}

// messageSink keeps the messages and faults in memory.
type messageSink struct {
	now func() time.Time

	mu       sync.Mutex
	seq      int
	faultSeq int
	messages []SinkMessage
	faults   []*SinkFault
	attempts map[string]int // by key
	rejected int
}

func newMessageSink(now func() time.Time) *messageSink {
	return &messageSink{now: now, attempts: map[string]int{}}
}

var sinkChannels = map[string]bool{"sms": true, "email": true, "push": true}

// receive stores m, or returns the fault that refuses it.
func (s *messageSink) receive(m SinkMessage) (SinkMessage, *SinkFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	attempts := 1
	if m.Key != "" {
		s.attempts[m.Key]++
		attempts = s.attempts[m.Key]
	}
	for _, f := range s.faults {
		if f.Remaining == 0 || (f.Channel != "" && f.Channel != m.Channel) || (f.To != "" && f.To != m.To) {
			continue
		}
		if f.Remaining > 0 {
			f.Remaining--
		}
		f.Hits++
		s.rejected++
		fault := *f
		return SinkMessage{}, &fault
	}
	s.seq++
	m.ID = fmt.Sprintf("msg-%d", s.seq)
	m.Attempts = attempts
	m.ReceivedAt = s.now().UTC()
	s.messages = append(s.messages, m)
	return m, nil
}

func (s *messageSink) list(f SinkFilter) []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []SinkMessage{}
	for _, m := range s.messages {
		if (f.Channel == "" || f.Channel == m.Channel) && (f.To == "" || f.To == m.To) && (f.Key == "" || f.Key == m.Key) {
			out = append(out, m)
		}
	}
	return out
}

func (s *messageSink) clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.messages)
	s.messages = nil
	s.attempts = map[string]int{}
	return n
}

func (s *messageSink) addFault(f SinkFault) (SinkFault, error) {
	if f.Status < 400 || f.Status > 599 {
		return SinkFault{}, fmt.Errorf("status must be 400–599, got %d", f.Status)
	}
	if f.Count < -1 {
		return SinkFault{}, fmt.Errorf("count must be -1, 0 or more, got %d", f.Count)
	}
	if f.Channel != "" && !sinkChannels[f.Channel] {
		return SinkFault{}, fmt.Errorf("channel must be sms, email, push or empty, got %q", f.Channel)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	f.ID = fmt.Sprintf("fault-%d", s.faultSeq)
	f.Remaining, f.Hits = f.Count, 0
	if f.Count <= 0 {
		f.Remaining = -1
	}
	s.faults = append(s.faults, &f)
	return f, nil
}

func (s *messageSink) listFaults() ([]SinkFault, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkFault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out, s.rejected
}

func (s *messageSink) clearFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = nil
	s.rejected = 0
	return n
}

// serve answers /_local/messages and /_local/faults and reports whether path
// was one of them.
func (s *messageSink) serve(w http.ResponseWriter, r *http.Request, path string) bool {
	switch path {
	case "/messages":
		switch r.Method {
		case http.MethodPost:
			var req struct {
				Channel, Kind, To, Subject, Text, Key string
			}
			if !decodeBody(w, r, &req) {
				return true
			}
			if !sinkChannels[req.Channel] || strings.TrimSpace(req.To) == "" {
				writeJSON(w, http.StatusBadRequest, map[string]string{"message": `want {"channel": "sms"|"email"|"push", "to": "…", "kind", "subject", "text", "key"}`})
				return true
			}
			m, fault := s.receive(SinkMessage{Channel: req.Channel, Kind: req.Kind, To: req.To, Subject: req.Subject, Text: req.Text, Key: req.Key})
			if fault != nil {
				writeJSON(w, fault.Status, map[string]string{"message": "injected fault", "fault": fault.ID})
				return true
			}
			writeJSON(w, http.StatusCreated, m)
		case http.MethodGet:
			q := r.URL.Query()
			writeJSON(w, http.StatusOK, map[string]any{"items": s.list(SinkFilter{Channel: q.Get("channel"), To: q.Get("to"), Key: q.Get("key")})})
		case http.MethodDelete:
			writeJSON(w, http.StatusOK, map[string]int{"deleted": s.clear()})
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "use GET, POST or DELETE"})
		}
	case "/faults":
		switch r.Method {
		case http.MethodPost:
			var f SinkFault
			if !decodeBody(w, r, &f) {
				return true
			}
			added, err := s.addFault(f)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
				return true
			}
			writeJSON(w, http.StatusCreated, added)
		case http.MethodGet:
			faults, rejected := s.listFaults()
			writeJSON(w, http.StatusOK, map[string]any{"items": faults, "rejected": rejected})
		case http.MethodDelete:
			writeJSON(w, http.StatusOK, map[string]int{"deleted": s.clearFaults()})
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "use GET, POST or DELETE"})
		}
	default:
		return false
	}
	return true
}

// decodeBody decodes a JSON request body into v, or answers 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be JSON: " + err.Error()})
		return false
	}
	return true
}

// Messages returns the messages the sink stored that match f, oldest first.
func (p *Platform) Messages(f SinkFilter) []SinkMessage { return p.sink.list(f) }

// ClearMessages deletes every stored message and resets the attempt counts.
func (p *Platform) ClearMessages() { p.sink.clear() }

// InjectFault makes the sink refuse matching sends (see SinkFault) and
// returns the fault as stored; the error says what is invalid.
func (p *Platform) InjectFault(f SinkFault) (SinkFault, error) { return p.sink.addFault(f) }

// Faults returns the injected faults, with their hits, and how many sends
// were refused in all.
func (p *Platform) Faults() ([]SinkFault, int) { return p.sink.listFaults() }

// ClearFaults removes every fault and resets the refused count.
func (p *Platform) ClearFaults() { p.sink.clearFaults() }
