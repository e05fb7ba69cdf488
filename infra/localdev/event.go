package localdev

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Fixed values of the emulated API and account.
const (
	// APIID is the requestContext.apiId of every local event.
	APIID = "local"
	// AccountID is the requestContext.accountId of every local event (the same
	// placeholder infra/samtemplate resolves AWS::AccountId to).
	AccountID = "000000000000"
	// Stage is the HTTP API's stage, as in template.yaml.
	Stage = "$default"
	// MaxRequestBody is API Gateway's payload limit for HTTP APIs (10 MB);
	// larger bodies get 413.
	MaxRequestBody = 10 << 20
)

// httpEvent is an API Gateway HTTP API payload format 2.0 request event, field
// for field and with the same omissions as the real one (no "cookies",
// "queryStringParameters", "pathParameters", "body" or
// "requestContext.authorizer" key when there is nothing to put in it).
type httpEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	RequestContext        requestContext    `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type requestContext struct {
	AccountID    string      `json:"accountId"`
	APIID        string      `json:"apiId"`
	Authorizer   *authorizer `json:"authorizer,omitempty"`
	DomainName   string      `json:"domainName"`
	DomainPrefix string      `json:"domainPrefix"`
	HTTP         httpInfo    `json:"http"`
	RequestID    string      `json:"requestId"`
	RouteKey     string      `json:"routeKey"`
	Stage        string      `json:"stage"`
	Time         string      `json:"time"`
	TimeEpoch    int64       `json:"timeEpoch"`
}

type authorizer struct {
	JWT *jwtInfo `json:"jwt"`
}

type jwtInfo struct {
	Claims map[string]string `json:"claims"`
	Scopes []string          `json:"scopes,omitempty"`
}

type httpInfo struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// eventInput is what the gateway knows about a request once it is routed and
// authorized.
type eventInput struct {
	req        *http.Request
	body       []byte
	routeKey   string
	pathParams map[string]string
	claims     map[string]any // verified token claims; nil on public routes
	requestID  string
	traceID    string
	at         time.Time
}

// apiGatewayTime is the layout of requestContext.time, e.g.
// "12/Mar/2020:19:03:58 +0000".
const apiGatewayTime = "02/Jan/2006:15:04:05 -0700"

// buildEvent converts a request into the payload 2.0 event API Gateway would
// send: header names lower-cased and repeated values comma-joined, cookies
// moved from the Cookie header to "cookies", repeated query parameters
// comma-joined, the body base64-encoded unless its content type is text, and
// the X-Forwarded-* and X-Amzn-Trace-Id headers API Gateway adds.
func buildEvent(in eventInput) *httpEvent {
	r := in.req
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(values, ",")
	}
	host := r.Host
	headers["host"] = host
	if _, ok := headers["content-length"]; !ok && len(in.body) > 0 {
		headers["content-length"] = fmt.Sprint(len(in.body))
	}
	ip := sourceIP(r)
	if prev := headers["x-forwarded-for"]; prev != "" {
		headers["x-forwarded-for"] = prev + ", " + ip
	} else {
		headers["x-forwarded-for"] = ip
	}
	_, port, _ := net.SplitHostPort(host)
	if port == "" {
		port = "80"
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	if headers["x-amzn-trace-id"] == "" {
		headers["x-amzn-trace-id"] = in.traceID
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery)
		if len(values) > 0 {
			query = make(map[string]string, len(values))
			for k, vs := range values {
				query[k] = strings.Join(vs, ",")
			}
		}
	}

	ev := &httpEvent{
		Version:               "2.0",
		RouteKey:              in.routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: requestContext{
			AccountID:    AccountID,
			APIID:        APIID,
			DomainName:   host,
			DomainPrefix: domainPrefix(host),
			HTTP: httpInfo{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  ip,
				UserAgent: r.UserAgent(),
			},
			RequestID: in.requestID,
			RouteKey:  in.routeKey,
			Stage:     Stage,
			Time:      in.at.UTC().Format(apiGatewayTime),
			TimeEpoch: in.at.UnixMilli(),
		},
	}
	if len(in.pathParams) > 0 {
		ev.PathParameters = in.pathParams
	}
	if in.claims != nil {
		ev.RequestContext.Authorizer = &authorizer{JWT: &jwtInfo{
			Claims: stringClaims(in.claims),
			Scopes: scopesOf(in.claims),
		}}
	}
	if len(in.body) > 0 {
		if isTextContent(r.Header.Get("Content-Type")) {
			ev.Body = string(in.body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(in.body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isTextContent reports whether API Gateway passes a body of this content type
// as text. Measured against real HTTP APIs: text/*, application/json,
// application/xml and application/javascript are text; everything else,
// including a missing content type and application/x-www-form-urlencoded, is
// base64-encoded.
func isTextContent(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return false
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		return host[:i]
	}
	return host
}

// newRequestID returns an id shaped like API Gateway's (e.g. "JKJaXmPLvHcESHA=").
func newRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newTraceID returns an X-Ray trace header value, "Root=1-<epoch hex>-<24 hex>".
func newTraceID(at time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", at.Unix(), hex.EncodeToString(b))
}

// readBody reads at most MaxRequestBody bytes; tooLarge reports a bigger body.
func readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.Body == nil {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxRequestBody {
		return nil, true, nil
	}
	return body, false, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
