package localdev

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/labchain/appointments/infra/samtemplate"
)

// Defaults of Lambda's event source mappings.
const (
	// DefaultSQSMaximumConcurrency is how many batches of one SQS event source
	// mapping run at once when the template sets no
	// ScalingConfig.MaximumConcurrency (Lambda's pollers start at five).
	DefaultSQSMaximumConcurrency = 5
	defaultSQSBatchSize          = 10
	defaultStreamBatchSize       = 100
	// streamPollInterval is how often a shard is read when it had nothing new
	// (Lambda polls stream shards four times a second).
	streamPollInterval = 250 * time.Millisecond
)

// sqsSource is an SQS event source mapping (a function's `Type: SQS` event).
type sqsSource struct {
	function, event string
	queue           string // logical id
	batchSize       int
	window          time.Duration
	reportFailures  bool
	maxConcurrency  int
	filters         filterSet
	enabled         bool
}

// streamSource is a DynamoDB stream event source mapping (`Type: DynamoDB`).
type streamSource struct {
	function, event string
	table           string // logical id
	startAt         string // TRIM_HORIZON or LATEST
	batchSize       int
	window          time.Duration
	maxRetries      int           // -1: until the record expires
	maxRecordAge    time.Duration // 0: no limit
	bisect          bool
	reportFailures  bool
	filters         filterSet
	enabled         bool
}

// scheduleSource is a `Type: Schedule` (EventBridge rule) or `Type:
// ScheduleV2` (EventBridge Scheduler) event.
type scheduleSource struct {
	function, event string
	kind            string // "Schedule" or "ScheduleV2"
	expr            *scheduleExpr
	timezone        string
	input           *string // nil: no Input
	name            string  // rule or schedule name
	enabled         bool
}

// id is "<function>.<event>", the name a schedule is listed under.
func (s *scheduleSource) id() string { return s.function + "." + s.event }

// arn is the schedule's (ScheduleV2) or rule's (Schedule) ARN.
func (s *scheduleSource) arn() string {
	if s.kind == "ScheduleV2" {
		return "arn:aws:scheduler:" + Region + ":" + AccountID + ":schedule/default/" + s.name
	}
	return "arn:aws:events:" + Region + ":" + AccountID + ":rule/" + s.name
}

// eventSources are every non-HTTP event of the selected functions.
type eventSources struct {
	sqs       []*sqsSource
	streams   []*streamSource
	schedules []*scheduleSource
}

// eventSources reads the SQS, DynamoDB, Schedule and ScheduleV2 events of
// funcs. Values AWS would refuse at deployment are errors here too. start is
// the creation time of rate schedules.
func (a *app) eventSources(funcs []samtemplate.Function, start time.Time) (*eventSources, error) {
	out := &eventSources{}
	for _, f := range funcs {
		if !a.conditionHolds(a.tpl.Resources[f.LogicalID]) {
			continue
		}
		for _, e := range f.Events {
			where := f.LogicalID + ": event " + e.Name
			switch e.Type {
			case "SQS":
				s, err := a.sqsSource(f, e)
				if err != nil {
					return nil, fmt.Errorf("localdev: %s: %w", where, err)
				}
				out.sqs = append(out.sqs, s)
			case "DynamoDB":
				s, err := a.streamSource(f, e)
				if err != nil {
					return nil, fmt.Errorf("localdev: %s: %w", where, err)
				}
				out.streams = append(out.streams, s)
			case "Schedule", "ScheduleV2":
				s, err := a.scheduleSource(f, e, start)
				if err != nil {
					return nil, fmt.Errorf("localdev: %s: %w", where, err)
				}
				out.schedules = append(out.schedules, s)
			default: // HttpApi is the gateway's; other types (S3, SNS, ...) are not emulated
			}
		}
	}
	return out, nil
}

func (a *app) sqsSource(f samtemplate.Function, e samtemplate.Event) (*sqsSource, error) {
	p := e.Properties
	s := &sqsSource{function: f.LogicalID, event: e.Name, batchSize: defaultSQSBatchSize, maxConcurrency: DefaultSQSMaximumConcurrency}
	arn, err := a.str(p["Queue"])
	if err != nil || arn == "" {
		return nil, fmt.Errorf("property Queue: want !GetAtt <queue>.Arn (%v)", err)
	}
	s.queue = a.queueIDOfARN(arn)
	if s.queue == "" {
		return nil, fmt.Errorf("property Queue: %s is not a queue of the template", arn)
	}
	if s.enabled, err = a.enabled(p); err != nil {
		return nil, err
	}
	if s.batchSize, err = a.intProp(p, "BatchSize", s.batchSize, 1, 10000); err != nil {
		return nil, err
	}
	win, err := a.intProp(p, "MaximumBatchingWindowInSeconds", 0, 0, 300)
	if err != nil {
		return nil, err
	}
	s.window = time.Duration(win) * time.Second
	if s.batchSize > 10 && win < 1 {
		return nil, fmt.Errorf("BatchSize %d > 10 needs MaximumBatchingWindowInSeconds ≥ 1 (as AWS requires)", s.batchSize)
	}
	if s.reportFailures, err = a.reportFailures(p); err != nil {
		return nil, err
	}
	if sc, ok := p["ScalingConfig"].(map[string]any); ok {
		if s.maxConcurrency, err = a.intProp(sc, "MaximumConcurrency", s.maxConcurrency, 2, 1000); err != nil {
			return nil, fmt.Errorf("ScalingConfig: %w", err)
		}
	}
	if s.filters, err = parseFilters(p["FilterCriteria"], a.str); err != nil {
		return nil, fmt.Errorf("FilterCriteria: %w", err)
	}
	return s, nil
}

func (a *app) streamSource(f samtemplate.Function, e samtemplate.Event) (*streamSource, error) {
	p := e.Properties
	s := &streamSource{function: f.LogicalID, event: e.Name, batchSize: defaultStreamBatchSize, maxRetries: -1}
	ref := p["Stream"]
	ga, _ := samtemplate.Map(ref)["Fn::GetAtt"].([]any)
	if len(ga) != 2 || samtemplate.Str(ga[1]) != "StreamArn" {
		return nil, fmt.Errorf("property Stream: want !GetAtt <table>.StreamArn")
	}
	s.table = samtemplate.Str(ga[0])
	if r, ok := a.tpl.Resources[s.table]; !ok || r.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("property Stream: %s is not a table of the template", s.table)
	}
	var err error
	if s.enabled, err = a.enabled(p); err != nil {
		return nil, err
	}
	s.startAt, _ = a.str(p["StartingPosition"])
	switch s.startAt {
	case "TRIM_HORIZON", "LATEST":
	default:
		return nil, fmt.Errorf("StartingPosition %q: want TRIM_HORIZON or LATEST", s.startAt)
	}
	if s.batchSize, err = a.intProp(p, "BatchSize", s.batchSize, 1, 10000); err != nil {
		return nil, err
	}
	win, err := a.intProp(p, "MaximumBatchingWindowInSeconds", 0, 0, 300)
	if err != nil {
		return nil, err
	}
	s.window = time.Duration(win) * time.Second
	if s.maxRetries, err = a.intProp(p, "MaximumRetryAttempts", -1, -1, 10000); err != nil {
		return nil, err
	}
	age, err := a.intProp(p, "MaximumRecordAgeInSeconds", -1, -1, 604800)
	if err != nil {
		return nil, err
	}
	if age > 0 {
		s.maxRecordAge = time.Duration(age) * time.Second
	}
	if v, err := a.str(p["BisectBatchOnFunctionError"]); err != nil {
		return nil, err
	} else {
		s.bisect = v == "true"
	}
	if s.reportFailures, err = a.reportFailures(p); err != nil {
		return nil, err
	}
	if s.filters, err = parseFilters(p["FilterCriteria"], a.str); err != nil {
		return nil, fmt.Errorf("FilterCriteria: %w", err)
	}
	return s, nil
}

func (a *app) scheduleSource(f samtemplate.Function, e samtemplate.Event, start time.Time) (*scheduleSource, error) {
	p := e.Properties
	s := &scheduleSource{function: f.LogicalID, event: e.Name, kind: e.Type, enabled: true, name: f.LogicalID + e.Name}
	key := "Schedule" // EventBridge rule
	if e.Type == "ScheduleV2" {
		key = "ScheduleExpression"
	}
	expr, err := a.str(p[key])
	if err != nil || expr == "" {
		return nil, fmt.Errorf("%s is required (%v)", key, err)
	}
	if tz, err := a.str(p["ScheduleExpressionTimezone"]); err != nil {
		return nil, err
	} else if tz != "" {
		s.timezone = tz
	}
	loc := time.UTC
	if s.timezone != "" {
		if e.Type != "ScheduleV2" {
			return nil, fmt.Errorf("ScheduleExpressionTimezone is a ScheduleV2 property")
		}
		if loc, err = time.LoadLocation(s.timezone); err != nil {
			return nil, fmt.Errorf("ScheduleExpressionTimezone: %w", err)
		}
	}
	if s.expr, err = parseSchedule(expr, loc, start); err != nil {
		return nil, err
	}
	if !s.expr.at.IsZero() && e.Type != "ScheduleV2" {
		return nil, fmt.Errorf("at() expressions need ScheduleV2")
	}
	if name, err := a.str(p["Name"]); err != nil {
		return nil, err
	} else if name != "" {
		s.name = name
	}
	if in, ok := p["Input"]; ok {
		v, err := a.str(in)
		if err != nil {
			return nil, fmt.Errorf("property Input: %w", err)
		}
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("property Input is not valid JSON")
		}
		s.input = &v
	}
	state, err := a.str(p["State"])
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(state, "DISABLED") {
		s.enabled = false
	}
	if _, ok := p["Enabled"]; ok {
		on, err := a.enabled(p)
		if err != nil {
			return nil, err
		}
		s.enabled = s.enabled && on
	}
	return s, nil
}

// str resolves a property to a string ("" when absent or AWS::NoValue).
func (a *app) str(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, present, err := a.tpl.Resolve(v, a.resolver())
	if err != nil || !present {
		return "", err
	}
	return s, nil
}

// enabled reads an Enabled property (default true); it may be a condition or
// parameter that resolves to "false".
func (a *app) enabled(p map[string]any) (bool, error) {
	v, err := a.str(p["Enabled"])
	if err != nil {
		return false, fmt.Errorf("property Enabled: %w", err)
	}
	switch strings.ToLower(v) {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("property Enabled: %q is not a boolean", v)
}

func (a *app) reportFailures(p map[string]any) (bool, error) {
	types, ok := p["FunctionResponseTypes"]
	if !ok {
		return false, nil
	}
	// Every listed type must be known; the list may be empty.
	found := false
	for _, t := range a.list(types) {
		if t != "ReportBatchItemFailures" {
			return false, fmt.Errorf("FunctionResponseTypes: unknown %q", t)
		}
		found = true
	}
	return found, nil
}

// intProp reads an integer property within [lo, hi] (def when absent).
func (a *app) intProp(p map[string]any, name string, def, lo, hi int) (int, error) {
	v, ok := p[name]
	if !ok {
		return def, nil
	}
	s, err := a.str(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want an integer in %d-%d", name, s, lo, hi)
	}
	return n, nil
}
