package localdev

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Unit tests of the event sources: no processes, they run with -short too.

func TestCronNext(t *testing.T) {
	bkk, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		expr  string
		loc   *time.Location
		after string
		want  string
	}{
		{"cron(0 10 * * ? *)", nil, "2026-12-01T09:59:00Z", "2026-12-01T10:00:00Z"},
		{"cron(0 10 * * ? *)", nil, "2026-12-01T10:00:00Z", "2026-12-02T10:00:00Z"},
		{"cron(*/15 * * * ? *)", nil, "2026-12-01T10:07:30Z", "2026-12-01T10:15:00Z"},
		{"cron(0/20 8-9 ? * MON-FRI *)", nil, "2026-12-04T09:41:00Z", "2026-12-07T08:00:00Z"}, // Fri → Mon
		{"cron(30 2 * * ? *)", bkk, "2026-12-01T00:00:00Z", "2026-12-01T19:30:00Z"},           // 02:30 +07 = 19:30Z the day before
		{"cron(0 0 L * ? *)", nil, "2026-02-10T00:00:00Z", "2026-02-28T00:00:00Z"},
		{"cron(0 0 LW * ? *)", nil, "2026-05-01T00:00:00Z", "2026-05-29T00:00:00Z"},  // May 31 2026 is a Sunday
		{"cron(0 0 15W * ? *)", nil, "2026-08-01T00:00:00Z", "2026-08-14T00:00:00Z"}, // Aug 15 2026 is a Saturday
		{"cron(0 0 1W * ? *)", nil, "2026-08-01T00:00:00Z", "2026-08-03T00:00:00Z"},  // Aug 1 is a Saturday: Monday the 3rd
		{"cron(0 12 ? * 6L *)", nil, "2026-12-01T00:00:00Z", "2026-12-25T12:00:00Z"}, // last Friday
		{"cron(0 9 ? * 2#1 *)", nil, "2026-12-01T00:00:00Z", "2026-12-07T09:00:00Z"}, // first Monday
		{"cron(0 9 ? * L *)", nil, "2026-12-01T00:00:00Z", "2026-12-05T09:00:00Z"},   // L alone: Saturday
		{"cron(0 0 1 JAN,JUL ? 2027-2028)", nil, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"cron(0 0 29 2 ? *)", nil, "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"cron(0 0 1 1 ? 2020)", nil, "2026-03-01T00:00:00Z", ""},
	} {
		s, err := parseSchedule(tc.expr, tc.loc, time.Time{})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		got := s.next(utc(tc.after))
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%s after %s = %v, want never", tc.expr, tc.after, got)
			}
			continue
		}
		if !got.Equal(utc(tc.want)) {
			t.Errorf("%s after %s = %v, want %s", tc.expr, tc.after, got.UTC(), tc.want)
		}
	}
}

func TestScheduleExpressionErrors(t *testing.T) {
	for _, bad := range []string{
		"rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)", "rate(minutes)",
		"cron(0 10 * * *)", "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(60 10 * * ? *)", "cron(0 10 * 13 ? *)",
		"cron(0 10 ? * 8 *)", "cron(0 10 ? * 2#6 *)", "every 5 minutes", "at(2026-12-01 10:00)",
	} {
		if _, err := parseSchedule(bad, nil, time.Now()); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	start := time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)
	s, err := parseSchedule("rate(5 minutes)", nil, start)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.next(start); !got.Equal(start.Add(5 * time.Minute)) {
		t.Errorf("rate next = %v", got)
	}
	if got := s.next(start.Add(12 * time.Minute)); !got.Equal(start.Add(15 * time.Minute)) {
		t.Errorf("rate next after 12 min = %v", got)
	}
	at, err := parseSchedule("at(2026-12-24T18:00:00)", time.UTC, start)
	if err != nil {
		t.Fatal(err)
	}
	if got := at.next(start); got.Format(time.RFC3339) != "2026-12-24T18:00:00Z" || !at.next(got).IsZero() {
		t.Errorf("at next = %v, then %v", got, at.next(got))
	}
}

func TestFilterPatterns(t *testing.T) {
	ev := map[string]any{}
	_ = json.Unmarshal([]byte(`{"eventName":"INSERT","dynamodb":{"NewImage":{"entity":{"S":"outbox"},"n":{"N":"5"},"tags":{"SS":["a","b"]}}},
		"body":{"kind":"job-7","count":3,"flag":true,"nothing":null,"list":[1,2,3]}}`), &ev)
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"entity":{"S":["outbox"]}}}}`, true},
		{`{"eventName":["MODIFY","REMOVE"]}`, false},
		{`{"dynamodb":{"NewImage":{"entity":{"S":["inbox"]}}}}`, false},
		{`{"body":{"kind":[{"prefix":"job-"}]}}`, true},
		{`{"body":{"kind":[{"suffix":"-7"}]}}`, true},
		{`{"body":{"kind":[{"equals-ignore-case":"JOB-7"}]}}`, true},
		{`{"body":{"kind":[{"anything-but":["job-7"]}]}}`, false},
		{`{"body":{"kind":[{"anything-but":"other"}]}}`, true},
		{`{"body":{"kind":[{"anything-but":{"prefix":"job"}}]}}`, false},
		{`{"body":{"missing":[{"exists":false}]}}`, true},
		{`{"body":{"kind":[{"exists":true}]}}`, true},
		{`{"body":{"kind":[{"exists":false}]}}`, false},
		{`{"body":{"count":[3]}}`, true},
		{`{"body":{"count":[{"numeric":[">",1,"<=",3]}]}}`, true},
		{`{"body":{"count":[{"numeric":["<",3]}]}}`, false},
		{`{"body":{"flag":[true]}}`, true},
		{`{"body":{"nothing":[null]}}`, true},
		{`{"body":{"list":[2]}}`, true},
		{`{"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}}`, true},
		{`{"body":{"kind":["job-7"],"count":[4]}}`, false},
	} {
		var p map[string]any
		if err := json.Unmarshal([]byte(tc.pattern), &p); err != nil {
			t.Fatal(err)
		}
		if err := checkPattern(p); err != nil {
			t.Errorf("%s: %v", tc.pattern, err)
			continue
		}
		if got := (filterSet{p}).match(ev); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.pattern, got, tc.want)
		}
	}
	// Any filter of the set may match; no filter matches everything.
	var a, b map[string]any
	_ = json.Unmarshal([]byte(`{"eventName":["REMOVE"]}`), &a)
	_ = json.Unmarshal([]byte(`{"eventName":["INSERT"]}`), &b)
	if !(filterSet{a, b}).match(ev) || (filterSet{a}).match(ev) || !(filterSet(nil)).match(ev) {
		t.Error("filter set semantics")
	}
	for _, bad := range []string{`{"a":"x"}`, `{"a":[{"wildcard":"x*"}]}`, `{"a":{"b":5}}`} {
		var p map[string]any
		_ = json.Unmarshal([]byte(bad), &p)
		if checkPattern(p) == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestBatchItemFailures(t *testing.T) {
	known := func(id string) bool { return id == "m1" || id == "m2" }
	for _, tc := range []struct {
		body    string
		want    string
		wantErr bool
	}{
		{``, "", false},
		{`null`, "", false},
		{`{}`, "", false},
		{`{"batchItemFailures":null}`, "", false},
		{`{"batchItemFailures":[]}`, "", false},
		{`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, "m2", false},
		{`{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m2","extra":1}]}`, "m1,m2", false},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, "", true},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, "", true},
		{`{"batchItemFailures":[{"itemIdentifer":"m1"}]}`, "", true},
		{`{"batchItemFailures":[{"itemIdentifier":"m9"}]}`, "", true},
		{`{"batchItemFailures":"m1"}`, "", true},
		{`"ok"`, "", true},
		{`not json`, "", true},
	} {
		ids, err := batchItemFailures([]byte(tc.body), known)
		if (err != nil) != tc.wantErr || strings.Join(ids, ",") != tc.want {
			t.Errorf("%s: ids %v, err %v; want %q, error %v", tc.body, ids, err, tc.want, tc.wantErr)
		}
	}
}

func TestSchedulePayloads(t *testing.T) {
	at := time.Date(2026, 12, 1, 19, 30, 15, 500, time.UTC)
	in := `{"t":"<aws.scheduler.scheduled-time>","a":"<aws.scheduler.schedule-arn>","e":"<aws.scheduler.execution-id>","n":<aws.scheduler.attempt-number>}`
	v2 := &scheduleSource{function: "F", event: "E", kind: "ScheduleV2", name: "FE", input: &in}
	if got := string(v2.payload(at, "exec-1", 2)); got != `{"t":"2026-12-01T19:30:15Z","a":"arn:aws:scheduler:ap-southeast-1:000000000000:schedule/default/FE","e":"exec-1","n":2}` {
		t.Errorf("ScheduleV2 payload = %s", got)
	}
	v2.input = nil
	if got := string(v2.payload(at, "x", 1)); got != "{}" {
		t.Errorf("ScheduleV2 without Input = %s", got)
	}
	classic := &scheduleSource{function: "F", event: "E", kind: "Schedule", name: "FE"}
	var ev map[string]any
	if err := json.Unmarshal(classic.payload(at, "id-1", 1), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["detail-type"] != "Scheduled Event" || ev["time"] != "2026-12-01T19:30:15Z" || ev["id"] != "id-1" {
		t.Errorf("Scheduled Event = %v", ev)
	}
	constant := `{"job":"sweep"}`
	classic.input = &constant
	if got := string(classic.payload(at, "x", 1)); got != constant {
		t.Errorf("Schedule with Input = %s", got)
	}
}

func TestEventSourcesFromTemplate(t *testing.T) {
	a, err := loadApp(filepath.Join("testdata", "events.yaml"), platformParams(nil, "http://issuer"))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := a.eventSources(a.funcs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byEvent := map[string]*sqsSource{}
	for _, s := range srcs.sqs {
		byEvent[s.event] = s
	}
	if j := byEvent["Jobs"]; j == nil || j.queue != "JobsQueue" || !j.reportFailures || j.batchSize != 10 || j.maxConcurrency != DefaultSQSMaximumConcurrency || !j.enabled {
		t.Errorf("Jobs = %+v", byEvent["Jobs"])
	}
	if s := byEvent["Slow"]; s == nil || s.maxConcurrency != 3 || s.batchSize != 1 {
		t.Errorf("Slow = %+v", s)
	}
	if byEvent["Off"].enabled || byEvent["Cond"].enabled || len(byEvent["Filtered"].filters) != 2 || byEvent["Window"].window != 2*time.Second {
		t.Errorf("Off %v, Cond %v, Filtered %d filters, Window %v", byEvent["Off"].enabled, byEvent["Cond"].enabled, len(byEvent["Filtered"].filters), byEvent["Window"].window)
	}
	// A parameter turns the conditional mapping on.
	on, _ := loadApp(filepath.Join("testdata", "events.yaml"), platformParams(map[string]string{"ConsumersOn": "true"}, "http://issuer"))
	srcsOn, err := on.eventSources(on.funcs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcsOn.sqs {
		if s.event == "Cond" && !s.enabled {
			t.Error("Cond must be enabled when ConsumersOn is true")
		}
	}
	if len(srcs.streams) != 1 {
		t.Fatalf("streams = %+v", srcs.streams)
	}
	st := srcs.streams[0]
	if st.table != "StreamTable" || st.startAt != "TRIM_HORIZON" || st.maxRetries != 2 || !st.bisect || !st.reportFailures || st.batchSize != 10 {
		t.Errorf("stream = %+v", st)
	}
	if len(srcs.schedules) != 4 {
		t.Fatalf("schedules = %d", len(srcs.schedules))
	}
	specs, err := a.queueSpecs()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, s := range specs {
		pos[s.id] = i
	}
	if _, ok := pos["NeverQueue"]; ok {
		t.Error("NeverQueue's Condition is false")
	}
	if pos["JobsDLQ"] > pos["JobsQueue"] {
		t.Error("the DLQ must be created before its queue")
	}

	// Values AWS refuses at deployment are errors.
	for name, event := range map[string]string{
		"big batch without window": `{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 100}}`,
		"unknown queue":            `{Type: SQS, Properties: {Queue: arn:aws:sqs:ap-southeast-1:000000000000:Nope}}`,
		"concurrency 1":            `{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, ScalingConfig: {MaximumConcurrency: 1}}}`,
		"bad response type":        `{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, FunctionResponseTypes: [Nope]}}`,
		"bad second response type": `{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, FunctionResponseTypes: [ReportBatchItemFailures, Nope]}}`,
		"bad filter":               `{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, FilterCriteria: {Filters: [{Pattern: 'x'}]}}}`,
		"stream position":          `{Type: DynamoDB, Properties: {Stream: !GetAtt T.StreamArn, StartingPosition: AT_TIMESTAMP}}`,
		"rate unit":                `{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hours)}}`,
		"timezone on Schedule":     `{Type: Schedule, Properties: {Schedule: rate(1 hour), ScheduleExpressionTimezone: Asia/Bangkok}}`,
		"bad timezone":             `{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hour), ScheduleExpressionTimezone: Mars/Base}}`,
		"input not JSON":           `{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hour), Input: "nope"}}`,
	} {
		tpl := `Resources:
  Q: {Type: AWS::SQS::Queue}
  T: {Type: AWS::DynamoDB::Table, Properties: {StreamSpecification: {StreamViewType: NEW_IMAGE}}}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: ` + event + "\n"
		path := filepath.Join(t.TempDir(), "template.yaml")
		if err := os.WriteFile(path, []byte(tpl), 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := loadApp(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := a.eventSources(a.funcs, time.Now()); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
