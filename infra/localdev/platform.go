package localdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/jaegerlocal"
	"github.com/labchain/appointments/infra/mailpit"
	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/infra/sqslocal"
)

// Platform is the running local system: DynamoDB Local with the template's
// tables, the SQS emulator with its queues, every function built and served
// by aws-lambda-rie processes, the HTTP API gateway in front of them, and the
// event sources that invoke functions without a request: SQS and DynamoDB
// stream event source mappings and schedules.
type Platform struct {
	opts      *resolved
	app       *app
	url       string
	listener  net.Listener
	server    *http.Server
	gateway   *gateway
	authority *authority
	dynamo    *dynamolocal.Server // nil when Options.DynamoEndpoint is used
	endpoint  string
	sqs       *sqslocal.Server // nil when Options.SQSEndpoint is used
	sqsClient *sqs.Client
	queues    map[string]string // logical id → URL
	queueList []queueSpec
	sources   *eventSources
	scheduler *scheduler
	functions map[string]*function // by logical id
	mailpit   *mailpit.Server      // email (mail.go)
	sink      *messageSink         // SMS and push (sink.go)
	jaeger    *jaegerlocal.Server  // traces, with Options.Tracing (tracing.go)

	// Background work (pollers, schedule timers) stops with bgCancel.
	bgCancel context.CancelFunc
	bg       sync.WaitGroup

	seedMu sync.Mutex
	seed   *SeedResult

	closeOnce sync.Once
	closeErr  error
}

// Start brings the platform up on 127.0.0.1 and returns once the API answers:
// it starts DynamoDB Local (in memory) and creates every table of the template
// (local name = logical id), starts the SQS emulator and creates every queue
// (name = logical id, dead-letter queues first), builds every function into
// <BuildDir>/<name>/bootstrap with one `go build`, and serves the template's
// routes on Options.Port, with the message sink under /_local/messages; it
// runs Mailpit for the functions' email first (see MailpitURL), since the
// template parameters name its port. It then starts the SQS and DynamoDB
// stream event source mappings (unless Options.NoEventSources) and the
// schedule timers (unless Options.NoSchedules). Emulator processes start lazily, on a
// function's first invocation. With Options.Seed it then creates the demo
// data through the API. On error everything started so far is stopped. Close
// stops it all.
func Start(ctx context.Context, opts Options) (*Platform, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := o.checkRIE(); err != nil {
		return nil, err
	}
	if err := o.checkMailpit(); err != nil {
		return nil, err
	}
	if err := o.checkJaeger(); err != nil {
		return nil, err
	}
	p := &Platform{opts: o, functions: map[string]*function{}, sink: newMessageSink(time.Now)}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()

	p.listener, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(o.Port))
	if err != nil {
		return nil, fmt.Errorf("localdev: API port: %w", err)
	}
	p.url = "http://" + p.listener.Addr().String()
	issuer := p.url + localPrefix
	// Mailpit first: the template parameters name its SMTP port.
	if err := p.startMailpit(ctx); err != nil {
		return nil, err
	}

	tracing, err := p.startJaeger(ctx)
	if err != nil {
		return nil, err
	}

	p.app, err = loadApp(o.Template, platformParams(o.Params, issuer, messagingParams(p.SMTPEndpoint(), p.MessageSinkURL()), tracing))
	if err != nil {
		return nil, err
	}
	funcs, err := p.app.selectFunctions(o.Functions)
	if err != nil {
		return nil, err
	}
	tables := p.app.tpl.ResourcesOfType("AWS::DynamoDB::Table")
	p.sources, err = p.app.eventSources(funcs, time.Now())
	if err != nil {
		return nil, err
	}
	p.queueList, err = p.app.queueSpecs()
	if err != nil {
		return nil, err
	}
	o.logf("%s: %d functions, %d routes, %d tables, %d queues, %d event source mappings, %d schedules", relPath(o.Template),
		len(funcs), len(p.app.routes), len(tables), len(p.queueList), len(p.sources.sqs)+len(p.sources.streams), len(p.sources.schedules))

	var build, runnable []samtemplate.Function
	missing := map[string]string{}
	for _, f := range funcs {
		if hasSource(o.Root, f) {
			build = append(build, f)
			runnable = append(runnable, f)
			continue
		}
		missing[f.LogicalID] = f.Dir() + " does not exist yet"
	}
	if len(missing) > 0 {
		ids := sortedKeys(missing)
		if !o.AllowMissing {
			return nil, fmt.Errorf("localdev: %d functions have no source: %s (use -allow-missing to serve the rest)", len(ids), strings.Join(ids, ", "))
		}
		o.logf("warning: %d functions have no source yet; their routes answer 500: %s", len(ids), strings.Join(ids, ", "))
	}

	// Build while DynamoDB Local starts: both take seconds.
	var (
		wg         sync.WaitGroup
		bootstraps map[string]string
		buildErr   error
		brokenMu   sync.Mutex
		broken     = map[string]bool{} // folder names that do not compile
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		names := make([]string, len(build))
		for i, f := range build {
			names[i] = samtemplate.FunctionName(f.LogicalID)
		}
		begin := time.Now()
		o.logf("building %d functions… (go build %s)", len(names), strings.Join(BuildFlags, " "))
		bootstraps, buildErr = Build(ctx, o.Root, o.BuildDir, names, o.Log)
		if buildErr != nil && o.AllowMissing && len(names) > 1 && ctx.Err() == nil {
			// Some function does not compile yet: build them one by one and
			// serve the ones that do.
			o.logf("%v", buildErr)
			o.logf("-allow-missing: building the functions one by one to serve those that compile")
			bootstraps, buildErr = map[string]string{}, nil
			for _, n := range names {
				one, err := Build(ctx, o.Root, o.BuildDir, []string{n}, io.Discard)
				if err != nil {
					brokenMu.Lock()
					broken[n] = true
					brokenMu.Unlock()
					continue
				}
				bootstraps[n] = one[n]
			}
		}
		if buildErr == nil {
			o.logf("built %d functions into %s in %.1fs", len(bootstraps), relPath(o.BuildDir), time.Since(begin).Seconds())
		}
	}()
	var sqsErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sqsErr = p.startSQS(ctx)
	}()
	dynErr := p.startDynamo(ctx)
	wg.Wait()
	if buildErr != nil {
		return nil, buildErr
	}
	if dynErr != nil {
		return nil, dynErr
	}
	if sqsErr != nil {
		return nil, sqsErr
	}
	if p.app.streamARNs, err = streamARNs(ctx, p.app, p.endpoint); err != nil {
		return nil, err
	}
	poolSize := p.poolSizes(o.MaxConcurrency)
	apiRouted := map[string]bool{}
	for _, r := range p.app.routes {
		apiRouted[r.FunctionID] = true
	}

	for _, f := range runnable {
		name := samtemplate.FunctionName(f.LogicalID)
		if broken[name] {
			missing[f.LogicalID] = f.Dir() + " does not compile"
			o.logf("warning: %s does not compile; its routes answer 500", f.Dir())
			continue
		}
		bin := bootstraps[name]
		s, err := p.app.settings(f, p.endpoint, filepath.Dir(bin), o.Env)
		if err != nil {
			return nil, err
		}
		fn := newFunction(f.LogicalID, name, bin, envList(s.env), s.timeout, poolSize[f.LogicalID], o.RIE, o.FunctionLog)
		fn.idleAfter = max(o.IdleTimeout, 0)
		if !apiRouted[f.LogicalID] {
			fn.nice = backgroundNice
		}
		p.functions[f.LogicalID] = fn
	}

	p.scheduler = &scheduler{sources: p.sources.schedules, functions: p.functions, log: o.Log, logf: o.logf, now: time.Now,
		asyncRetries: 2, retryDelay: time.Minute}
	p.authority, err = newAuthority(issuer, p.app.audience, time.Now)
	if err != nil {
		return nil, err
	}
	var selected []samtemplate.Route
	guarded := map[string]bool{}
	inScope := map[string]bool{}
	for _, f := range funcs {
		inScope[f.LogicalID] = true
	}
	for _, r := range p.app.routes {
		if inScope[r.FunctionID] {
			selected = append(selected, r.Route)
			guarded[r.Key()] = r.Auth
		}
	}
	rt, err := newRouter(selected)
	if err != nil {
		return nil, err
	}
	p.gateway = &gateway{
		router: rt, auth: guarded, functions: p.functions, missing: missing,
		authority: p.authority, cors: p.app.cors, now: time.Now, log: o.Log, extra: p,
	}
	p.server = &http.Server{Handler: p.gateway, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := p.server.Serve(p.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.logf("API server: %v", err)
		}
	}()
	o.logf("API on %s (JWT issuer %s, audience %s; max %d instances per function)", p.url, issuer, p.app.audience, o.MaxConcurrency)
	p.startEventSources()

	if o.Seed {
		if _, err := p.SeedDemo(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return p, nil
}

// startDynamo starts DynamoDB Local (or connects to Options.DynamoEndpoint)
// and creates the template's tables.
func (p *Platform) startDynamo(ctx context.Context) error {
	o := p.opts
	begin := time.Now()
	if o.DynamoEndpoint != "" {
		p.endpoint = strings.TrimSuffix(o.DynamoEndpoint, "/")
		o.logf("using DynamoDB at %s", p.endpoint)
	} else {
		s, err := dynamolocal.Start(ctx, dynamolocal.Options{Dir: o.DynamoDir, Port: o.DynamoPort, InMemory: true})
		if err != nil {
			return err
		}
		p.dynamo = s
		p.endpoint = s.Endpoint()
		o.logf("DynamoDB Local ready on :%d (in memory, %.1fs)", s.Port(), time.Since(begin).Seconds())
	}
	return createTables(ctx, p.app, p.endpoint, o)
}

// createTables creates every table of the template, named after its logical id.
func createTables(ctx context.Context, a *app, endpoint string, o *resolved) error {
	var inputs []*dynamodb.CreateTableInput
	var names []string
	for _, t := range a.tpl.ResourcesOfType("AWS::DynamoDB::Table") {
		in, err := a.tpl.TableInput(t.LogicalID, t.LogicalID)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
		names = append(names, t.LogicalID)
	}
	if len(inputs) == 0 {
		return nil
	}
	if err := dynamolocal.CreateTables(ctx, dynamolocal.NewClient(endpoint), inputs); err != nil {
		return err
	}
	o.logf("tables ready: %s", strings.Join(names, ", "))
	return nil
}

// URL returns the API's base URL, "http://127.0.0.1:<port>".
func (p *Platform) URL() string { return p.url }

// DynamoEndpoint returns the DynamoDB endpoint the functions use,
// "http://127.0.0.1:<port>".
func (p *Platform) DynamoEndpoint() string { return p.endpoint }

// Issuer returns the iss every local token carries and the authorizer requires.
func (p *Platform) Issuer() string { return p.authority.issuer }

// Audience returns the aud the authorizer requires (the JwtAudience parameter).
func (p *Platform) Audience() string { return p.authority.audience }

// Token returns a signed access token the API's JWT authorizer accepts
// (unless the request asks for an expired one or overrides iss or aud).
func (p *Platform) Token(req TokenRequest) (string, error) { return p.authority.issue(req) }

// Seed returns the ids of the demo data created by Options.Seed or the last
// successful SeedDemo, or nil.
func (p *Platform) Seed() *SeedResult {
	p.seedMu.Lock()
	defer p.seedMu.Unlock()
	return p.seed
}

// SeedDemo creates the demo data through the API with an admin token (see
// SeedResult) and returns its ids. Each call creates a new branch.
func (p *Platform) SeedDemo(ctx context.Context) (*SeedResult, error) {
	begin := time.Now()
	p.opts.logf("seeding the demo branch through the API…")
	seed, err := seedDemo(ctx, p.url, p.authority)
	if err != nil {
		return nil, err
	}
	p.opts.logf("seeded branch %s in %.1fs", seed.BranchID, time.Since(begin).Seconds())
	p.seedMu.Lock()
	p.seed = seed
	p.seedMu.Unlock()
	return seed, nil
}

// Close stops the event sources, the API, every emulator and function
// process, the SQS emulator, DynamoDB Local, Mailpit and Jaeger. It is safe to call
// more than once.
func (p *Platform) Close() error {
	p.closeOnce.Do(func() {
		if p.bgCancel != nil {
			p.bgCancel()
		}
		if p.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = p.server.Shutdown(ctx)
			cancel()
			_ = p.server.Close()
		} else if p.listener != nil {
			_ = p.listener.Close()
		}
		var wg sync.WaitGroup
		for _, f := range p.functions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.close()
			}()
		}
		wg.Wait()
		p.bg.Wait()
		if p.sqs != nil {
			p.sqs.Stop()
		}
		if p.dynamo != nil {
			p.dynamo.Stop()
		}
		if p.mailpit != nil {
			p.mailpit.Close()
		}
		if p.jaeger != nil {
			_ = p.jaeger.Close()
		}
	})
	return p.closeErr
}

// instances returns how many emulator processes each function runs.
func (p *Platform) instances() map[string]int {
	out := map[string]int{}
	for id, f := range p.functions {
		out[id] = f.size()
	}
	return out
}

// pids returns every process the platform's functions run.
func (p *Platform) pids() []int {
	var out []int
	for _, f := range p.functions {
		out = append(out, f.pids()...)
	}
	sort.Ints(out)
	return out
}

// relPath shortens path relative to the working directory for messages.
func relPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
