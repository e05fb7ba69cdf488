// Package faultproxy is a fault-injecting HTTP proxy for tests, put between
// the AWS SDK and DynamoDB Local (point the client's BaseEndpoint at URL()).
// DynamoDB Local never throttles, never reports a TransactionConflict and
// never loses a response; AWS does all three. Rules, chosen per operation
// (the X-Amz-Target header, e.g. "DynamoDB_20120810.TransactWriteItems"),
// make the proxy answer as AWS would in those cases:
//
//   - Throttle: 400 ProvisionedThroughputExceededException, nothing forwarded
//     (the SDK's retryer retries it as a throttle).
//   - TxConflict: 400 TransactionCanceledException with one CancellationReason
//     per TransactItems entry, TransactionConflict on the first and None on
//     the others, nothing forwarded (the SDK does not retry it).
//   - ServerError: 500 InternalServerError, nothing forwarded (retried).
//   - DropAfterWrite: the request is forwarded and applied, then the response
//     is replaced by a 500 (a lost response: the SDK retries a write that
//     already happened).
//   - CutAfterWrite: forwarded and applied, then the connection is closed
//     without any response.
//
// Any rule may add Latency before it acts; a rule of kind Pass only delays.
// Hold, Reached and Abandoned let a crash test stop a request in flight,
// kill the process that sent it, see the request dropped, then release.
// The error bodies follow the awsJson1_0 protocol as DynamoDB sends them: a
// "__type" of "com.amazonaws.dynamodb.v20120810#<Code>" (the SDK keeps the
// part after '#') and the message; TransactionCanceledException carries
// "Message" and "CancellationReasons":[{"Code":..,"Message":..}], in request
// order (see the SDK's types.TransactionCanceledException and smithy-go's
// protocol/internal/json/error.go).
package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind is what a rule does to a matching request.
type Kind int

// The kinds of fault.
const (
	Pass           Kind = iota // forward unchanged (with the rule's Latency)
	Throttle                   // 400 ProvisionedThroughputExceededException
	TxConflict                 // 400 TransactionCanceledException [TransactionConflict, None...]
	ServerError                // 500 InternalServerError
	DropAfterWrite             // forward, then answer 500 instead of the real response
	CutAfterWrite              // forward, then close the connection without a response
)

func (k Kind) String() string {
	return [...]string{"Pass", "Throttle", "TxConflict", "ServerError", "DropAfterWrite", "CutAfterWrite"}[k]
}

// Rule is one programmed fault.
type Rule struct {
	// Op is the operation name ("TransactWriteItems", "UpdateItem", ...): the
	// part of X-Amz-Target after the dot. Empty matches every operation.
	Op string
	// Kind is the fault.
	Kind Kind
	// Times is how many matching requests the rule affects before it retires;
	// 0 means every matching request until the rule is removed.
	Times int
	// Latency is waited before the rule acts.
	Latency time.Duration
	// BodyContains, if set, restricts the rule to requests whose body contains
	// it (e.g. a status value written by one UpdateItem and not another).
	BodyContains string
	// Rate, if in (0, 1), is the probability that a matching request is
	// affected; the others fall through to the next rule. 0 means always.
	Rate float64
	// Hold, if set, makes the rule wait (after Latency) until the channel is
	// closed or receives, so a test can act while the request is in flight.
	Hold <-chan struct{}
	// Reached, if set, is closed when the rule first matches a request.
	Reached chan<- struct{}
	// Abandoned, if set, is closed when the client of the first matching
	// request goes away while the request is held (a crash test killed it):
	// the request is then dropped, never forwarded, so releasing Hold after
	// Abandoned cannot apply the write.
	Abandoned chan<- struct{}

	hits int
}

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	srv   *httptest.Server
	rp    *httputil.ReverseProxy
	mu    sync.Mutex
	rules []*Rule
	seen  map[string]int // requests per operation
	hits  map[string]int // faults applied per operation
}

// Start starts a proxy in front of target (e.g. DynamoDB Local's endpoint).
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad target %q", target)
	}
	p := &Proxy{rp: httputil.NewSingleHostReverseProxy(u), seen: map[string]int{}, hits: map[string]int{}}
	// DisableCompression: the client's own Accept-Encoding passes through;
	// a transparent gunzip here would break the SDK's X-Amz-Crc32 check.
	p.rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// URL is the proxy's base URL, for the SDK's BaseEndpoint.
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Add programs a rule; rules are tried in the order added, the first that
// matches acts. It returns the rule for Remove.
func (p *Proxy) Add(r Rule) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	rr := r
	p.rules = append(p.rules, &rr)
	return &rr
}

// Remove retires a rule.
func (p *Proxy) Remove(r *Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.rules {
		if x == r {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
			return
		}
	}
}

// Clear retires every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Seen is how many requests of op the proxy received ("" = all).
func (p *Proxy) Seen(op string) int { return p.count(p.seen, op) }

// Faults is how many requests of op a rule other than Pass acted on ("" = all).
func (p *Proxy) Faults(op string) int { return p.count(p.hits, op) }

func (p *Proxy) count(m map[string]int, op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op != "" {
		return m[op]
	}
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Operation returns the operation of an X-Amz-Target value:
// "DynamoDB_20120810.PutItem" -> "PutItem".
func Operation(target string) string {
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}

// match finds the first rule for the request and uses up one of its Times.
func (p *Proxy) match(op string, body []byte) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[op]++
	for i, r := range p.rules {
		if r.Op != "" && r.Op != op {
			continue
		}
		if r.BodyContains != "" && !bytes.Contains(body, []byte(r.BodyContains)) {
			continue
		}
		if r.Rate > 0 && r.Rate < 1 && rand.Float64() >= r.Rate {
			continue
		}
		r.hits++
		if r.Times > 0 && r.hits >= r.Times {
			p.rules = append(p.rules[:i:i], p.rules[i+1:]...)
		}
		if r.Kind != Pass {
			p.hits[op]++
		}
		first := r.hits == 1
		out := *r
		if !first {
			out.Reached, out.Abandoned = nil, nil
		}
		return out, true
	}
	return Rule{}, false
}

func (p *Proxy) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	op := Operation(req.Header.Get("X-Amz-Target"))
	r, ok := p.match(op, body)
	if !ok {
		p.rp.ServeHTTP(w, req)
		return
	}
	if r.Reached != nil {
		close(r.Reached)
	}
	if r.Latency > 0 {
		select {
		case <-time.After(r.Latency):
		case <-req.Context().Done():
			return
		}
	}
	if r.Hold != nil {
		select {
		case <-r.Hold:
		case <-req.Context().Done():
			if r.Abandoned != nil {
				close(r.Abandoned)
			}
			return
		}
		if req.Context().Err() != nil { // both ready: the client is gone
			if r.Abandoned != nil {
				close(r.Abandoned)
			}
			return
		}
	}
	switch r.Kind {
	case Pass:
		p.rp.ServeHTTP(w, req)
	case Throttle:
		writeError(w, http.StatusBadRequest, ThrottleBody())
	case TxConflict:
		writeError(w, http.StatusBadRequest, TxConflictBody(transactItems(body)))
	case ServerError:
		writeError(w, http.StatusInternalServerError, ServerErrorBody())
	case DropAfterWrite, CutAfterWrite:
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, req) // the write happens; its answer is lost
		if r.Kind == DropAfterWrite {
			writeError(w, http.StatusInternalServerError, ServerErrorBody())
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			writeError(w, http.StatusInternalServerError, ServerErrorBody())
			return
		}
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// errorNamespace prefixes every DynamoDB error type on the wire.
const errorNamespace = "com.amazonaws.dynamodb.v20120810#"

func writeError(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("faultproxy-%d", time.Now().UnixNano()))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ThrottleBody is DynamoDB's ProvisionedThroughputExceededException body.
func ThrottleBody() []byte {
	return mustJSON(map[string]string{
		"__type":  errorNamespace + "ProvisionedThroughputExceededException",
		"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
	})
}

// ServerErrorBody is DynamoDB's InternalServerError body.
func ServerErrorBody() []byte {
	return mustJSON(map[string]string{
		"__type":  errorNamespace + "InternalServerError",
		"message": "Internal server error",
	})
}

// cancellationReason is one entry of CancellationReasons.
type cancellationReason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
}

// TxConflictBody is a TransactionCanceledException for a transaction of n
// items whose first item conflicted with another transaction.
func TxConflictBody(n int) []byte {
	n = max(n, 1)
	reasons := make([]cancellationReason, n)
	codes := make([]string, n)
	for i := range reasons {
		reasons[i], codes[i] = cancellationReason{Code: "None"}, "None"
	}
	reasons[0] = cancellationReason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}
	codes[0] = "TransactionConflict"
	return mustJSON(struct {
		Type    string               `json:"__type"`
		Message string               `json:"Message"`
		Reasons []cancellationReason `json:"CancellationReasons"`
	}{
		Type:    errorNamespace + "TransactionCanceledException",
		Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		Reasons: reasons,
	})
}

// transactItems counts the TransactItems of a TransactWriteItems body (0 if
// it has none).
func transactItems(body []byte) int {
	var in struct{ TransactItems []json.RawMessage }
	if json.Unmarshal(body, &in) != nil {
		return 0
	}
	return len(in.TransactItems)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
