package localdev

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/labchain/appointments/infra/samtemplate"
)

// scheduler fires the template's Schedule and ScheduleV2 events.
type scheduler struct {
	sources   []*scheduleSource
	functions map[string]*function
	log       io.Writer
	logf      func(format string, args ...any)
	now       func() time.Time
	// asyncRetries is how often a failed scheduled invocation is retried, and
	// retryDelay the first wait (Lambda's asynchronous invocation: 2 retries,
	// about 1 and 2 minutes apart).
	asyncRetries int
	retryDelay   time.Duration
}

// ScheduleInfo describes one schedule (GET /_local/schedules).
type ScheduleInfo struct {
	// ID is "<function logical id>.<event name>".
	ID string `json:"id"`
	// Function is the target function's logical id; Event the event's name.
	Function string `json:"function"`
	Event    string `json:"event"`
	// Type is "Schedule" (EventBridge rule) or "ScheduleV2" (EventBridge Scheduler).
	Type string `json:"type"`
	// Expression is the rate(), cron() or at() expression; Timezone its zone.
	Expression string `json:"expression"`
	Timezone   string `json:"timezone"`
	// ARN is the rule's or schedule's ARN as the payload names it.
	ARN string `json:"arn"`
	// Enabled is false for State DISABLED or Enabled false.
	Enabled bool `json:"enabled"`
	// Next is the next fire time (RFC 3339, UTC); empty when it never fires
	// again or is disabled.
	Next string `json:"next,omitempty"`
}

// run arms a timer per enabled schedule until ctx is done.
func (s *scheduler) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, src := range s.sources {
		if !src.enabled {
			continue
		}
		if _, ok := s.functions[src.function]; !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, wg, src)
		}()
	}
}

func (s *scheduler) loop(ctx context.Context, wg *sync.WaitGroup, src *scheduleSource) {
	after := s.now()
	for {
		at := src.expr.next(after)
		if at.IsZero() {
			return
		}
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		after = at
		wg.Add(1)
		go func() { // asynchronous, like EventBridge's invocations
			defer wg.Done()
			s.fireAsync(ctx, src, at)
		}()
	}
}

// fireAsync invokes as an asynchronous invocation would: on a function
// error, retried asyncRetries times with growing delays.
func (s *scheduler) fireAsync(ctx context.Context, src *scheduleSource, at time.Time) {
	delay := s.retryDelay
	for attempt := 0; ; attempt++ {
		res, err := s.fire(ctx, src, at)
		if err != nil || ctx.Err() != nil {
			return
		}
		if !res.Failed() || attempt >= s.asyncRetries {
			if res.Failed() {
				s.logf("schedule %s: failed after %d retries (asynchronous invocation gives up)", src.id(), attempt)
			}
			return
		}
		s.logf("schedule %s: the function failed; retry %d in %s", src.id(), attempt+1, delay)
		sleep(ctx, delay)
		delay *= 2
	}
}

// fire invokes the schedule's function once with the payload for at.
func (s *scheduler) fire(ctx context.Context, src *scheduleSource, at time.Time) (*InvokeResult, error) {
	f, ok := s.functions[src.function]
	if !ok {
		return nil, fmt.Errorf("localdev: %s does not run (no source or does not compile)", src.function)
	}
	payload := src.payload(at, newUUID(), 1)
	begin := time.Now()
	inv, err := f.invoke(ctx, payload)
	took := time.Since(begin).Round(100 * time.Microsecond)
	line := fmt.Sprintf("%s %s %s (%s) → %s", begin.Format("15:04:05"), src.kind, src.id(), src.expr.text, src.function)
	if err != nil {
		fmt.Fprintf(s.log, "%s invoke failed %s: %v\n", line, took, err)
		return nil, err
	}
	res := &InvokeResult{Function: src.function, Payload: inv.body, Duration: time.Since(begin)}
	switch classify(inv) {
	case functionError:
		res.FunctionError = true
		fmt.Fprintf(s.log, "%s function error %s\n", line, took)
	case timedOut:
		res.TimedOut = true
		fmt.Fprintf(s.log, "%s timed out %s\n", line, took)
	default:
		fmt.Fprintf(s.log, "%s ok %s\n", line, took)
	}
	return res, nil
}

// payload is the event a schedule delivers at the scheduled time at:
// ScheduleV2 sends its Input with the scheduler's context attributes
// substituted (no Input: {}), Schedule sends its Input or else EventBridge's
// "Scheduled Event".
func (src *scheduleSource) payload(at time.Time, executionID string, attempt int) []byte {
	at = at.UTC().Truncate(time.Second)
	if src.kind == "ScheduleV2" {
		if src.input == nil {
			return []byte("{}")
		}
		return []byte(strings.NewReplacer(
			"<aws.scheduler.scheduled-time>", at.Format(time.RFC3339),
			"<aws.scheduler.schedule-arn>", src.arn(),
			"<aws.scheduler.execution-id>", executionID,
			"<aws.scheduler.attempt-number>", fmt.Sprint(attempt),
		).Replace(*src.input))
	}
	if src.input != nil {
		return []byte(*src.input)
	}
	b, _ := json.Marshal(map[string]any{
		"version":     "0",
		"id":          executionID,
		"detail-type": "Scheduled Event",
		"source":      "aws.events",
		"account":     AccountID,
		"time":        at.Format(time.RFC3339),
		"region":      Region,
		"resources":   []string{src.arn()},
		"detail":      map[string]any{},
	})
	return b
}

// find returns the schedule named id: "<function>.<event>", a function's
// logical id (or folder name) when it has exactly one schedule, or an event
// name that only one schedule has.
func (s *scheduler) find(id string) (*scheduleSource, error) {
	var byFn, byEvent []*scheduleSource
	for _, src := range s.sources {
		if src.id() == id {
			return src, nil
		}
		if src.function == id || strings.TrimSuffix(id, "Function")+"Function" == src.function || samtemplate.FunctionName(src.function) == id {
			byFn = append(byFn, src)
		}
		if src.event == id {
			byEvent = append(byEvent, src)
		}
	}
	for _, list := range [][]*scheduleSource{byFn, byEvent} {
		switch len(list) {
		case 0:
		case 1:
			return list[0], nil
		default:
			ids := make([]string, len(list))
			for i, l := range list {
				ids[i] = l.id()
			}
			return nil, fmt.Errorf("%w: %q names %d schedules: %s", errNoSchedule, id, len(list), strings.Join(ids, ", "))
		}
	}
	return nil, fmt.Errorf("%w %q", errNoSchedule, id)
}

// errNoSchedule is wrapped by find's error when no schedule has the name.
var errNoSchedule = errors.New("no schedule")

// infos lists the schedules with their next fire time after now.
func (s *scheduler) infos(now time.Time, timersOn bool) []ScheduleInfo {
	out := make([]ScheduleInfo, 0, len(s.sources))
	for _, src := range s.sources {
		tz := src.timezone
		if tz == "" {
			tz = "UTC"
		}
		info := ScheduleInfo{ID: src.id(), Function: src.function, Event: src.event, Type: src.kind,
			Expression: src.expr.text, Timezone: tz, ARN: src.arn(), Enabled: src.enabled}
		if src.enabled && timersOn {
			if n := src.expr.next(now); !n.IsZero() {
				info.Next = n.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, info)
	}
	return out
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
