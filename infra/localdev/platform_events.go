package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/sqslocal"
)

// startSQS starts the SQS emulator (or connects to Options.SQSEndpoint) and
// creates the template's queues.
func (p *Platform) startSQS(ctx context.Context) error {
	o := p.opts
	begin := time.Now()
	if o.SQSEndpoint != "" {
		p.app.sqsEndpoint = strings.TrimSuffix(o.SQSEndpoint, "/")
		o.logf("using SQS at %s", p.app.sqsEndpoint)
	} else {
		s, err := sqslocal.Start(ctx, sqslocal.Options{Dir: o.SQSDir, Port: o.SQSPort})
		if err != nil {
			return fmt.Errorf("localdev: %w", err)
		}
		p.sqs = s
		p.app.sqsEndpoint = s.Endpoint()
		o.logf("SQS emulator ready on :%d (%.1fs)", s.Port(), time.Since(begin).Seconds())
	}
	p.sqsClient = sqslocal.NewClient(p.app.sqsEndpoint)
	urls, err := createQueues(ctx, p.sqsClient, p.queueList)
	if err != nil {
		return err
	}
	p.queues = urls
	if len(p.queueList) > 0 {
		o.logf("queues ready: %s", strings.Join(describeQueues(p.queueList), ", "))
	}
	return nil
}

// streamARNs returns the stream ARN of every table of the template that has
// a stream.
func streamARNs(ctx context.Context, a *app, endpoint string) (map[string]string, error) {
	c := dynamolocal.NewClient(endpoint)
	out := map[string]string{}
	for _, t := range a.tpl.ResourcesOfType("AWS::DynamoDB::Table") {
		if _, ok := t.Properties["StreamSpecification"]; !ok {
			continue
		}
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.LogicalID)})
		if err != nil {
			return nil, fmt.Errorf("localdev: describe table %s: %w", t.LogicalID, err)
		}
		if arn := aws.ToString(d.Table.LatestStreamArn); arn != "" {
			out[t.LogicalID] = arn
		}
	}
	return out, nil
}

// poolSizes returns each function's instance limit: the -max-concurrency
// value, or more when its SQS mappings' MaximumConcurrency add up to more
// (Lambda runs that many batches at once).
func (p *Platform) poolSizes(base int) map[string]int {
	sum := map[string]int{}
	for _, s := range p.sources.sqs {
		if s.enabled && !p.opts.NoEventSources {
			sum[s.function] += s.maxConcurrency
		}
	}
	out := map[string]int{}
	for _, f := range p.app.funcs {
		out[f.LogicalID] = max(base, sum[f.LogicalID])
	}
	return out
}

// startEventSources starts the SQS and stream pollers and the schedule timers.
func (p *Platform) startEventSources() {
	o := p.opts
	ctx, cancel := context.WithCancel(context.Background())
	p.bgCancel = cancel
	state := func(enabled bool) string {
		switch {
		case !enabled:
			return " [disabled]"
		case o.NoEventSources:
			return " [off: -no-event-sources]"
		}
		return ""
	}
	for _, s := range p.sources.sqs {
		fn, ok := p.functions[s.function]
		o.logf("SQS %s → %s (batch %d, window %s, max concurrency %d%s%s)%s", s.queue, s.function, s.batchSize, s.window,
			s.maxConcurrency, when(s.reportFailures, ", ReportBatchItemFailures"), when(len(s.filters) > 0, fmt.Sprintf(", %d filters", len(s.filters))),
			state(s.enabled))
		if vt := p.queueVisibility(s.queue); ok && vt < fn.timeout {
			// CloudFormation refuses this mapping; here it only warns.
			o.logf("warning: %s's VisibilityTimeout (%s) is less than %s's Timeout (%s): AWS refuses this mapping, and messages reappear while the function still runs",
				s.queue, vt, s.function, fn.timeout)
		}
		if !ok || !s.enabled || o.NoEventSources {
			continue
		}
		m := &sqsMapping{src: s, url: p.queues[s.queue], arn: sqslocal.QueueARN(p.app.queueName(s.queue)), client: p.sqsClient,
			fn: fn, log: o.Log, logf: o.logf}
		m.run(ctx, &p.bg)
	}
	for _, s := range p.sources.streams {
		fn, ok := p.functions[s.function]
		arn := p.app.streamARNs[s.table]
		retries := "∞"
		if s.maxRetries >= 0 {
			retries = fmt.Sprint(s.maxRetries)
		}
		o.logf("DynamoDB stream %s → %s (%s, batch %d, retries %s%s%s%s)%s", s.table, s.function, s.startAt, s.batchSize, retries,
			when(s.bisect, ", bisect"), when(s.reportFailures, ", ReportBatchItemFailures"),
			when(len(s.filters) > 0, fmt.Sprintf(", %d filters", len(s.filters))), state(s.enabled))
		if !ok || !s.enabled || o.NoEventSources {
			continue
		}
		if arn == "" {
			o.logf("warning: table %s has no stream (StreamSpecification); %s.%s does not run", s.table, s.function, s.event)
			continue
		}
		m := &streamMapping{src: s, arn: arn, client: newStreamsClient(p.endpoint), fn: fn, log: o.Log, logf: o.logf,
			backoff: 200 * time.Millisecond, maxBackoff: 5 * time.Second}
		m.run(ctx, &p.bg)
	}
	now := time.Now()
	for _, info := range p.scheduler.infos(now, !o.NoSchedules) {
		next := info.Next
		switch {
		case !info.Enabled:
			next = "disabled"
		case o.NoSchedules:
			next = "timers off (-no-schedules)"
		case next == "":
			next = "never again"
		default:
			next = "next " + next
		}
		o.logf("%s %s %s (%s) → %s: %s", info.Type, info.ID, info.Expression, info.Timezone, info.Function, next)
	}
	if !o.NoSchedules {
		p.scheduler.run(ctx, &p.bg)
	}
}

// queueVisibility is a template queue's VisibilityTimeout (SQS's default 30 s).
func (p *Platform) queueVisibility(id string) time.Duration {
	for _, q := range p.queueList {
		if q.id == id {
			if v, ok := q.attrs["VisibilityTimeout"]; ok {
				n, err := strconv.Atoi(v)
				if err == nil {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	return 30 * time.Second
}

func when(on bool, text string) string {
	if on {
		return text
	}
	return ""
}

// SQSEndpoint returns the SQS endpoint the functions use
// (AWS_ENDPOINT_URL_SQS), "http://127.0.0.1:<port>".
func (p *Platform) SQSEndpoint() string { return p.app.sqsEndpoint }

// QueueURL returns the URL of the template queue with this logical id, or ""
// when the template has no such queue.
func (p *Platform) QueueURL(logicalID string) string { return p.queues[logicalID] }

// Queues returns every queue's URL by logical id.
func (p *Platform) Queues() map[string]string {
	out := make(map[string]string, len(p.queues))
	for k, v := range p.queues {
		out[k] = v
	}
	return out
}

// Schedules describes the template's Schedule and ScheduleV2 events, with
// their next fire time when the timers run.
func (p *Platform) Schedules() []ScheduleInfo {
	return p.scheduler.infos(time.Now(), !p.opts.NoSchedules)
}

// RunSchedule fires a schedule now, synchronously, and returns the
// function's result (no retries). id is "<function>.<event>", or a function's
// logical id or folder name when it has one schedule, or an event name. now
// is the scheduled time the payload carries (zero: the current time).
func (p *Platform) RunSchedule(ctx context.Context, id string, now time.Time) (*InvokeResult, error) {
	src, err := p.scheduler.find(id)
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	if now.IsZero() {
		now = time.Now()
	}
	return p.scheduler.fire(ctx, src, now)
}

// serveLocalExtra serves /_local/queues, /_local/schedules[/{id}/run] and
// the message sink's /_local/messages and /_local/faults.
func (p *Platform) serveLocalExtra(w http.ResponseWriter, r *http.Request, path string) bool {
	switch {
	case path == "/queues":
		writeJSON(w, http.StatusOK, p.Queues())
	case path == "/schedules":
		writeJSON(w, http.StatusOK, map[string]any{"schedules": p.Schedules()})
	case strings.HasPrefix(path, "/schedules/") && strings.HasSuffix(path, "/run"):
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "use POST"})
			return true
		}
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/schedules/"), "/run")
		var req struct {
			Now string `json:"now"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			err = json.Unmarshal(body, &req)
		}
		var now time.Time
		if err == nil && req.Now != "" {
			now, err = time.Parse(time.RFC3339, req.Now)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": `body: want {"now": "<RFC 3339 time>"} or nothing: ` + err.Error()})
			return true
		}
		res, err := p.RunSchedule(r.Context(), id, now)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, errNoSchedule) {
				status = http.StatusNotFound
			}
			writeJSON(w, status, map[string]string{"message": err.Error()})
			return true
		}
		// As Lambda's Invoke API answers: the payload, and a header on failure.
		if res.Failed() {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
	default:
		return p.sink.serve(w, r, path)
	}
	return true
}
