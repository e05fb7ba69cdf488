// Command soak runs the local platform (`make dev`'s, started in-process) for
// a bounded time under a mixed load: patient bookings and reschedules through
// the API, LIS sample and POS order messages on their queues, and the
// notifications the bookings cause. It plays the outside systems that read
// AppointmentEventsQueue (nothing in the template consumes it), receiving
// and deleting its events and counting their distinct ids. It then waits,
// with a bound, until every queue is empty (no visible, in-flight or delayed
// message) and no outbox record is PENDING, and reports error counts
// (unexpected API answers, ERROR lines in the functions' logs), every
// dead-letter queue's depth and the resident memory of each kind of process
// (gateway, DynamoDB Local, SQS emulator, Mailpit, each function's pool with
// its RSS per instance) after warm-up, when the load stops and once idle
// instances are reclaimed. It exits 1 unless there were no errors, the
// queues drained and every DLQ is empty. Run it with `make soak`
// (SOAK_DURATION=2m for a shorter run); it is not part of `make test`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/infra/localdev"
	"github.com/labchain/appointments/infra/sqslocal"
)

func main() {
	dur := flag.Duration("duration", 10*time.Minute, "how long to drive load")
	workers := flag.Int("workers", 2, "concurrent patients")
	out := flag.String("log", "build/soak/functions.log", "where the functions' output goes")
	drain := flag.Duration("drain", 5*time.Minute, "how long to wait for the queues to drain after the load")
	idle := flag.Duration("idle", 30*time.Second, "idle time after which the platform stops an emulator instance")
	flag.Parse()
	if err := run(config{*dur, *workers, *out, *drain, *idle}); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// errorLines counts the functions' ERROR log lines while copying them to w.
type errorLines struct {
	w io.Writer
	n atomic.Int64
}

func (e *errorLines) Write(b []byte) (int, error) {
	e.n.Add(int64(bytes.Count(b, []byte(`"level":"ERROR"`))))
	return e.w.Write(b)
}

// stats are the answers and messages of the run.
type stats struct {
	mu       sync.Mutex
	answers  map[string]int // "book 201", "reschedule 409 SLOT_UNAVAILABLE", ...
	errors   map[string]int
	messages int
}

func (s *stats) answer(op string, status int, code string, expected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fmt.Sprintf("%s %d %s", op, status, code)
	s.answers[strings.TrimSpace(k)]++
	if !expected {
		s.errors[strings.TrimSpace(k)]++
	}
}

// config is the command line.
type config struct {
	dur     time.Duration
	workers int
	logPath string
	drain   time.Duration
	idle    time.Duration
}

func run(c config) error {
	dur, workers, logPath := c.dur, c.workers, c.logPath
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(dirOf(logPath), 0o755); err != nil {
		return err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fnLog := &errorLines{w: f}
	fmt.Printf("soak: starting the local platform (function output in %s)\n", logPath)
	p, err := localdev.Start(ctx, localdev.Options{Port: freePort(), DynamoPort: freePort(), SQSPort: freePort(), NoSchedules: true,
		Seed: true, Log: io.Discard, FunctionLog: fnLog, IdleTimeout: c.idle})
	if err != nil {
		return err
	}
	defer p.Close()
	seed := p.Seed()
	sq := sqslocal.NewClient(p.SQSEndpoint())
	st := &stats{answers: map[string]int{}, errors: map[string]int{}}
	d := &driver{p: p, seed: seed, sq: sq, st: st, http: &http.Client{Timeout: 30 * time.Second}}
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	ext := &outside{sq: sq, url: p.QueueURL("AppointmentEventsQueue"), ids: map[string]int{}}
	extDone := make(chan struct{})
	go func() {
		defer close(extDone)
		ext.consume(bg)
	}()
	load := loadAvg()

	// Warm up every path once so the start figures include each function.
	d.cycle(ctx, rand.New(rand.NewPCG(0, 0)))
	time.Sleep(5 * time.Second)
	heapStart, _ := jvmHeapAfterGC(memory())
	start := memory()
	fmt.Printf("soak: %d processes, %.0f MiB RSS after warm-up; driving load for %v with %d workers (load average %s)\n",
		len(start), total(start), dur, workers, load)

	end := time.Now().Add(dur)
	var wg sync.WaitGroup
	for w := range workers {
		r := rand.New(rand.NewPCG(uint64(w+1), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				d.cycle(ctx, r)
			}
		})
	}
	wg.Wait()
	loadEnd := memory()
	loadDuring := loadAvg()
	drainBegin := time.Now()
	drained, left := d.drain(ctx, c.drain)
	fmt.Printf("soak: load stopped (load average %s); queues %s after %v\n", loadDuring,
		map[bool]string{true: "drained", false: "NOT drained"}[drained], time.Since(drainBegin).Round(time.Second))
	dlq := d.dlqDepths(ctx)
	// Idle instances are reclaimed after c.idle: wait for it (bounded) so
	// the last snapshot shows what stays when the load is gone.
	settleBy := time.Now().Add(2*c.idle + 10*time.Second)
	for instances(p) > 0 && time.Now().Before(settleBy) && ctx.Err() == nil {
		time.Sleep(time.Second)
	}
	heapEnd, heapOK := jvmHeapAfterGC(memory())
	settled := memory()
	stopBG()
	<-extDone
	err = report(st, fnLog.n.Load(), dlq, drained, left, ext, []snapshot{{"after warm-up", start}, {"load end", loadEnd}, {"settled", settled}})
	if heapOK {
		fmt.Printf("DynamoDB Local Java heap in use after a full GC: %.0f MiB after warm-up -> %.0f MiB settled (its tables are in native SQLite memory, inside its RSS)\n", heapStart, heapEnd)
	}
	return err
}

type driver struct {
	p    *localdev.Platform
	seed *localdev.SeedResult
	sq   *sqs.Client
	st   *stats
	http *http.Client
	seq  atomic.Int64
}

// bangkok is the demo branch's zone.
var bangkok = time.FixedZone("ICT", 7*3600)

// slot returns a random start on the demo branch's grid: Monday to Saturday
// 07:00-15:45, 1 to 59 days ahead (the demo service books 60 days ahead).
func slot(r *rand.Rand) time.Time {
	for {
		day := time.Now().In(bangkok).AddDate(0, 0, 1+r.IntN(59))
		if day.Weekday() == time.Sunday {
			continue
		}
		return time.Date(day.Year(), day.Month(), day.Day(), 7+r.IntN(9), 15*r.IntN(4), 0, 0, bangkok)
	}
}

// cycle is one patient's visit: book (retrying another time if the slot is
// full), then either reschedule it or report its sample and payment.
func (d *driver) cycle(ctx context.Context, r *rand.Rand) {
	n := d.seq.Add(1)
	patient := fmt.Sprintf("soak-%d-%d", time.Now().Unix(), n)
	tok, err := d.p.Token(localdev.TokenRequest{Role: "patient", PatientID: patient})
	if err != nil {
		d.st.answer("token", 0, err.Error(), false)
		return
	}
	var id string
	for try := 0; try < 5 && id == ""; try++ {
		body := map[string]any{"branchId": d.seed.BranchID, "serviceId": d.seed.FastingBloodDrawID, "start": slot(r).Format(time.RFC3339),
			"patient": map[string]string{"id": patient, "name": "Soak " + patient, "phone": "+66812345678", "email": patient + "@example.com", "locale": "th"}}
		status, code, resp := d.call(ctx, tok, "/v1/appointments", body, fmt.Sprintf("%s-%d", patient, try))
		d.st.answer("book", status, code, status == 201 || code == "SLOT_UNAVAILABLE")
		if status == 201 {
			id = resp["id"].(string)
		}
	}
	if id == "" {
		return
	}
	if r.IntN(2) == 0 {
		status, code, _ := d.call(ctx, tok, "/v1/appointments/"+id+"/reschedule", map[string]any{"start": slot(r).Format(time.RFC3339)}, patient+"-r")
		d.st.answer("reschedule", status, code, status == 200 || code == "SLOT_UNAVAILABLE")
		// Cancel it: the freed slot keeps the calendar from filling up (two
		// stations, 59 days: a 10-minute run that only booked filled it and
		// then drove mostly 409s).
		status, code, _ = d.call(ctx, tok, "/v1/appointments/"+id+"/cancel", map[string]any{"reason": "soak"}, patient+"-c")
		d.st.answer("cancel", status, code, status == 200)
		return
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	lis := fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-%s","type":"sample.status_changed","occurredAt":%q,"appointmentId":%q,"labOrderId":"LO-%s","sampleId":"S-1","status":"collected","sequence":1}`, patient, ts, id, patient)
	pos := fmt.Sprintf(`{"schemaVersion":1,"eventId":"pos-%s","type":"order.paid","occurredAt":%q,"orderId":"ORD-%s","appointmentId":%q,"branchId":%q,"amount":{"value":"350.00","currency":"THB"},"items":[{"code":"CBC","name":"Complete blood count","qty":1,"price":"350.00"}]}`, patient, ts, patient, id, d.seed.BranchID)
	d.send(ctx, "LisEventsQueue", lis)
	d.send(ctx, "PosEventsQueue", pos)
}

// call posts body with the token and an Idempotency-Key and returns the
// status, the error code (if any) and the decoded answer.
func (d *driver) call(ctx context.Context, tok, path string, body any, key string) (int, string, map[string]any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.p.URL()+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	code := ""
	if e, ok := m["error"].(map[string]any); ok {
		code, _ = e["code"].(string)
	}
	return resp.StatusCode, code, m
}

func (d *driver) send(ctx context.Context, queue, body string) {
	_, err := d.sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(d.p.QueueURL(queue)), MessageBody: aws.String(body)})
	d.st.mu.Lock()
	d.st.messages++
	d.st.mu.Unlock()
	if err != nil {
		d.st.answer("send "+queue, 0, err.Error(), false)
	}
}

// drain waits until every queue other than a DLQ has no visible, in-flight
// or delayed message and no outbox record is PENDING (or the timeout
// passes), and reports whether it did and, if not, what was left.
func (d *driver) drain(ctx context.Context, timeout time.Duration) (bool, map[string]int) {
	deadline := time.Now().Add(timeout)
	for {
		left := map[string]int{}
		for id, url := range d.p.Queues() {
			if !strings.Contains(id, "DLQ") {
				if n := depth(ctx, d.sq, url, true); n != 0 {
					left[id] = n
				}
			}
		}
		if n := pendingOutbox(ctx, d.p); n != 0 {
			left["outbox records PENDING"] = n
		}
		if len(left) == 0 {
			return true, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, left
		}
		time.Sleep(2 * time.Second)
	}
}

func (d *driver) dlqDepths(ctx context.Context) map[string]int {
	out := map[string]int{}
	for id, url := range d.p.Queues() {
		if strings.Contains(id, "DLQ") {
			out[id] = depth(ctx, d.sq, url, true)
		}
	}
	return out
}

// depth is a queue's visible (and, with inFlight, in-flight and delayed)
// messages; -1 if it cannot be read.
func depth(ctx context.Context, sq *sqs.Client, url string, inFlight bool) int {
	out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return -1
	}
	n := 0
	for k, v := range out.Attributes {
		if k == string(types.QueueAttributeNameApproximateNumberOfMessages) || inFlight {
			var x int
			fmt.Sscan(v, &x)
			n += x
		}
	}
	return n
}

func report(st *stats, errLines int64, dlq map[string]int, drained bool, left map[string]int, ext *outside, snaps []snapshot) error {
	fmt.Println("\n== soak result ==")
	keys := sortedKeys(st.answers)
	for _, k := range keys {
		fmt.Printf("  %-45s %6d\n", k, st.answers[k])
	}
	fmt.Printf("  queue messages sent (LIS, POS)               %6d\n", st.messages)
	msgs, distinct := ext.counts()
	fmt.Printf("  AppointmentEventsQueue events received        %6d (%d distinct ids)\n", msgs, distinct)
	bad := 0
	for _, n := range st.errors {
		bad += n
	}
	fmt.Printf("unexpected answers: %d %v\nfunction ERROR log lines: %d\nqueues drained: %v %v\n", bad, st.errors, errLines, drained, left)
	dlqBad := 0
	for _, k := range sortedKeys(dlq) {
		fmt.Printf("  DLQ %-30s %d\n", k, dlq[k])
		if dlq[k] != 0 {
			dlqBad++
		}
	}
	fmt.Println("memory:")
	printMemory(snaps)
	if bad > 0 || errLines > 0 || dlqBad > 0 || !drained {
		return fmt.Errorf("%d unexpected answers, %d ERROR lines, %d non-empty DLQs, drained %v", bad, errLines, dlqBad, drained)
	}
	fmt.Println("soak: OK (0 errors, queues drained, empty DLQs)")
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
}
