package localdev

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/infra/sqslocal"
)

// app is what the platform reads from the template: functions, routes with
// their authorization, the JWT authorizer's audience and the CORS settings.
type app struct {
	tpl      *samtemplate.Template
	funcs    []samtemplate.Function
	routes   []route
	audience string
	cors     *corsConfig
	params   map[string]string

	// Set once the emulators run (queue URLs and stream ARNs depend on them).
	sqsEndpoint string            // "" → the default port
	streamARNs  map[string]string // table logical id → its stream's ARN
}

// route is a template route and whether the JWT authorizer guards it.
type route struct {
	samtemplate.Route
	Auth bool
}

// defaultAudience is used when the template names no audience at all.
const defaultAudience = "appointments-api"

func loadApp(path string, params map[string]string) (*app, error) {
	tpl, err := samtemplate.Load(path)
	if err != nil {
		return nil, err
	}
	a := &app{tpl: tpl, funcs: tpl.Functions(), params: params}
	api := a.httpAPI()
	auth := samtemplate.Map(api.Properties["Auth"])
	defaultAuthorizer := samtemplate.Str(auth["DefaultAuthorizer"])
	for _, f := range a.funcs {
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			method := strings.ToUpper(samtemplate.Str(e.Properties["Method"]))
			path := samtemplate.Str(e.Properties["Path"])
			if method == "" || path == "" {
				return nil, fmt.Errorf("%s: event %s: the local platform needs Method and Path", f.LogicalID, e.Name)
			}
			authorizerName := samtemplate.Str(samtemplate.Map(e.Properties["Auth"])["Authorizer"])
			if authorizerName == "" {
				authorizerName = defaultAuthorizer
			}
			r := samtemplate.Route{Method: method, Path: path, FunctionID: f.LogicalID, Public: authorizerName == "NONE" || authorizerName == ""}
			a.routes = append(a.routes, route{Route: r, Auth: !r.Public})
		}
	}
	sort.Slice(a.routes, func(i, j int) bool {
		if a.routes[i].Path != a.routes[j].Path {
			return a.routes[i].Path < a.routes[j].Path
		}
		return a.routes[i].Method < a.routes[j].Method
	})

	a.audience = defaultAudience
	if p, ok := tpl.Parameters["JwtAudience"]; ok && p.Default != nil {
		a.audience = samtemplate.Str(p.Default)
	}
	if name := defaultAuthorizer; name != "" {
		cfg := samtemplate.Map(samtemplate.Map(samtemplate.Map(auth["Authorizers"])[name])["JwtConfiguration"])
		if auds := a.list(cfg["audience"]); len(auds) > 0 {
			a.audience = auds[0]
		}
	}
	if v, ok := params["JwtAudience"]; ok {
		a.audience = v
	}
	a.cors = a.corsConfig(api)
	return a, nil
}

// httpAPI returns the first AWS::Serverless::HttpApi (zero Resource if none).
func (a *app) httpAPI() samtemplate.Resource {
	apis := a.tpl.ResourcesOfType("AWS::Serverless::HttpApi")
	if len(apis) == 0 {
		return samtemplate.Resource{}
	}
	return apis[0]
}

// resolver resolves intrinsics the local way: a table's Ref is its logical id
// (the local table name) and its StreamArn the ARN of its DynamoDB Local
// stream, a queue's Ref is its emulator URL (Arn and QueueName as SQS gives
// them), the API's Ref is APIID.
func (a *app) resolver() samtemplate.Resolver {
	return samtemplate.Resolver{
		Region: Region,
		Params: a.params,
		Ref: func(name string) (string, bool) {
			id, attr, _ := strings.Cut(name, ".")
			r, ok := a.tpl.Resources[id]
			if !ok {
				return "", false
			}
			switch r.Type {
			case "AWS::DynamoDB::Table":
				arn := "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + id
				switch attr {
				case "":
					return id, true
				case "Arn":
					return arn, true
				case "StreamArn":
					if s, ok := a.streamARNs[id]; ok {
						return s, true
					}
					return arn + "/stream/1970-01-01T00:00:00.000", true
				}
			case "AWS::SQS::Queue":
				switch attr {
				case "", "QueueUrl":
					return a.queueURL(id), true
				case "Arn":
					return sqslocal.QueueARN(a.queueName(id)), true
				case "QueueName":
					return a.queueName(id), true
				}
			case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
				if attr == "" || attr == "ApiId" {
					return APIID, true
				}
			case "AWS::Serverless::Function":
				switch attr {
				case "":
					return id, true
				case "Arn":
					return "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + id, true
				}
			}
			return "", false
		},
	}
}

// list resolves a list property: a YAML list of values, or one value that
// resolves to a comma-separated list (a CommaDelimitedList parameter).
func (a *app) list(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, present, err := a.tpl.Resolve(e, a.resolver()); err == nil && present && s != "" {
				out = append(out, s)
			}
		}
	case nil:
	default:
		if s, present, err := a.tpl.Resolve(x, a.resolver()); err == nil && present && s != "" {
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// selectFunctions returns the functions to run (all when names is empty).
func (a *app) selectFunctions(names []string) ([]samtemplate.Function, error) {
	if len(names) == 0 {
		return a.funcs, nil
	}
	var out []samtemplate.Function
	for _, n := range names {
		f, err := a.function(n)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// function finds a function by logical id or folder name.
func (a *app) function(name string) (samtemplate.Function, error) {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "functions/"), "/")
	var known []string
	for _, f := range a.funcs {
		if f.LogicalID == name || samtemplate.FunctionName(f.LogicalID) == name {
			return f, nil
		}
		known = append(known, samtemplate.FunctionName(f.LogicalID))
	}
	return samtemplate.Function{}, fmt.Errorf("localdev: no function %q in the template (known: %s)", name, strings.Join(known, ", "))
}

// hasSource reports whether <root>/functions/<name> holds Go files.
func hasSource(root string, f samtemplate.Function) bool {
	matches, _ := filepath.Glob(filepath.Join(root, f.Dir(), "*.go"))
	return len(matches) > 0
}

// functionSettings are the run-time settings of a function.
type functionSettings struct {
	timeout time.Duration
	memory  int
	env     map[string]string
}

// settings resolves a function's timeout, memory and environment: the
// template's variables (Globals, then its own), OTEL_* variables of this
// process, the variables Lambda itself sets, and finally extra.
func (a *app) settings(f samtemplate.Function, dynamoEndpoint, taskRoot string, extra map[string]string) (functionSettings, error) {
	s := functionSettings{timeout: 3 * time.Second, memory: 128}
	if t, ok := number(f.Properties["Timeout"]); ok && t > 0 {
		s.timeout = time.Duration(t) * time.Second
	}
	if m, ok := number(f.Properties["MemorySize"]); ok && m > 0 {
		s.memory = m
	}
	tplEnv, err := a.tpl.ResolveEnv(f, a.resolver())
	if err != nil {
		return s, err
	}
	env := map[string]string{
		"PATH":             os.Getenv("PATH"),
		"TZ":               ":UTC",
		"LANG":             "en_US.UTF-8",
		"LAMBDA_TASK_ROOT": taskRoot,
	}
	for k, v := range tplEnv {
		env[k] = v
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OTEL_") {
			env[k] = v
		}
	}
	logging := samtemplate.Map(f.Properties["LoggingConfig"])
	if v := samtemplate.Str(logging["LogFormat"]); v != "" {
		env["AWS_LAMBDA_LOG_FORMAT"] = v
	}
	if v := samtemplate.Str(logging["ApplicationLogLevel"]); v != "" {
		env["AWS_LAMBDA_LOG_LEVEL"] = v
	}
	for k, v := range map[string]string{
		"AWS_REGION":                      Region,
		"AWS_DEFAULT_REGION":              Region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_ENDPOINT_URL_DYNAMODB":       dynamoEndpoint,
		"AWS_ENDPOINT_URL_SQS":            a.sqsURL(),
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(s.memory),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     fmt.Sprint(int(s.timeout / time.Second)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
	} {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	s.env = env
	return s, nil
}

func number(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	}
	return 0, false
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// platformParams returns the parameter overrides the platform runs with:
// Environment, JwtIssuer, then each of extra (e.g. messagingParams), then
// the user's, which win.
func platformParams(user map[string]string, issuer string, extra ...map[string]string) map[string]string {
	// TracingEnabled=false: no ADOT collector layer locally; Jaeger is the
	// collector when tracing is on (OtelExporterEndpoint).
	p := map[string]string{"Environment": Environment, "JwtIssuer": issuer, "TracingEnabled": "false"}
	for _, e := range extra {
		for k, v := range e {
			p[k] = v
		}
	}
	for k, v := range user {
		p[k] = v
	}
	return p
}

// sqsURL is the SQS endpoint the functions use.
func (a *app) sqsURL() string {
	if a.sqsEndpoint != "" {
		return a.sqsEndpoint
	}
	return "http://127.0.0.1:" + strconv.Itoa(DefaultSQSPort)
}
