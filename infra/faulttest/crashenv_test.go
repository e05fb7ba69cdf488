package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/faultproxy"
	"github.com/labchain/appointments/infra/localdev"
	"github.com/labchain/appointments/infra/sqslocal"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/metrics"
)

// crashEnv is the local platform (some of its functions, under
// aws-lambda-rie, fed by their real event sources) whose DynamoDB endpoint is
// a fault proxy in front of a DynamoDB Local of its own; direct reads and
// seeding bypass the proxy.
type crashEnv struct {
	p      *localdev.Platform
	proxy  *faultproxy.Proxy
	direct *dynamo.Store
	sq     *sqs.Client
	log    *lockedLog
}

// lockedLog keeps the functions' output.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startCrashEnv starts DynamoDB Local, the proxy and the platform with only
// the given functions (their tables and queues are the template's).
func startCrashEnv(t *testing.T, functions ...string) *crashEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("crash test: starts the local platform")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := dynamolocal.Start(ctx, dynamolocal.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Stop)
	proxy, err := faultproxy.Start(db.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	log := &lockedLog{}
	p, err := localdev.Start(ctx, localdev.Options{DynamoEndpoint: proxy.URL(), NoSchedules: true, Functions: functions,
		Log: log, FunctionLog: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Close()
		if t.Failed() {
			t.Logf("platform and function output:\n%s", tail(log.String(), 60))
		}
	})
	return &crashEnv{p: p, proxy: proxy, direct: dynamo.New(dynamolocal.NewClient(db.Endpoint()), "BookingTable"),
		sq: sqslocal.NewClient(p.SQSEndpoint()), log: log}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// visibility sets a queue's visibility timeout (the redelivery delay of a
// failed batch). The template's 180 s would make a crash test wait minutes;
// the value must stay above the consumer's Timeout, as the template's does,
// so that the claims of a killed invocation (held until its deadline) have
// lapsed when its messages come back.
func (e *crashEnv) visibility(t *testing.T, queue string, d time.Duration) {
	t.Helper()
	_, err := e.sq.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(e.p.QueueURL(queue)),
		Attributes: map[string]string{string(types.QueueAttributeNameVisibilityTimeout): fmt.Sprint(int(d / time.Second))}})
	if err != nil {
		t.Fatal(err)
	}
}

// seedVisits books n visits directly (no proxy, no faults) ten days ahead
// on a branch of n stations open every day, patient i with phone
// phones(i); each booking commits its outbox record, which the table's
// stream then feeds to the batch publisher if it runs.
func seedVisits(t *testing.T, store *dynamo.Store, n int, phone func(int) string) []domain.Appointment {
	t.Helper()
	clock := time.Now
	svc := app.New(store, clock)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	ctx := context.Background()
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Asok", TimeZone: "Asia/Bangkok"})
	if err != nil {
		t.Fatal(err)
	}
	var week []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week = append(week, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: week}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprintf("S%d", i), Type: domain.ResourceCollectionStation}); err != nil {
			t.Fatal(err)
		}
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	bkk := time.FixedZone("ICT", 7*3600)
	day := clock().In(bkk).AddDate(0, 0, 10)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, bkk)
	var out []domain.Appointment
	for i := range n {
		p := "p" + strings.TrimPrefix(phone(i), "+")
		a, err := svc.Book(ctx, domain.Actor{ID: "u-" + p, Role: domain.RolePatient, PatientID: p},
			app.BookInput{BranchID: br.ID, ServiceID: draw.ID, Start: start, Patient: domain.Patient{Name: "Somchai " + p, Phone: phone(i), Locale: "th"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// killBusy kills -9 every busy instance of a function: first its function
// process (the bootstrap, which runs in a process group of its own and would
// otherwise finish its invocation), then its aws-lambda-rie, as an execution
// environment dies. It returns how many it killed.
func (e *crashEnv) killBusy(t *testing.T, function string) int {
	t.Helper()
	insts, err := e.p.Instances(function)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range insts {
		if !in.Busy {
			continue
		}
		for _, pid := range in.Runtime {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if err := syscall.Kill(in.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d: %v", in.PID, err)
		}
		n++
	}
	return n
}

// wait closes nothing: it waits for ch or fails the test after d, saying what.
func wait(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("after %v: %s", d, what)
	}
}

// poll calls ok until it returns true or d passes; it then fails the test
// with what, formatted with state() if state is not nil.
func poll[S any](t *testing.T, d time.Duration, what string, state func() S, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			if state != nil {
				what = fmt.Sprintf(what, state())
			}
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// queueIdle reports whether a queue has no visible, in-flight or delayed
// message.
func (e *crashEnv) queueIdle(t *testing.T, queue string) bool {
	t.Helper()
	out, err := e.sq.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(e.p.QueueURL(queue)),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Attributes {
		if v != "0" {
			return false
		}
	}
	return true
}

// duplicates sums the consumer's MessagesProcessed metric lines (CloudWatch
// EMF in the function output) of outcome "duplicate": records acknowledged
// without running the handler again, because their dedupe key had completed.
func (e *crashEnv) duplicates(consumer string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(e.log.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.IndexByte(line, '{')
		if i < 0 || !strings.Contains(line, metrics.MessagesProcessed) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line[i:]), &m) != nil {
			continue
		}
		if m[metrics.DimConsumer] == consumer && m[metrics.DimOutcome] == metrics.MessageDuplicate {
			if v, ok := m[metrics.MessagesProcessed].(float64); ok {
				n += int(v)
			}
		}
	}
	return n
}
