package devbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/localdev"
)

// The benchmarks share one platform started like `localdev up` (tracing on,
// event sources and schedules running, the default instance limit), on free
// ports; TestMain closes it. To see where the time goes, variables turn
// parts off or change them (not used by `make bench`): DEVBENCH_NO_EVENTS
// (no event sources, no schedules), DEVBENCH_NO_TRACING (no Jaeger),
// DEVBENCH_MAX_CONCURRENCY=n, DEVBENCH_FUNCTION_LOG=file (the functions'
// output with their REPORT durations).
var (
	startOnce sync.Once
	platform  *localdev.Platform
	startErr  error
	platLog   = &tailBuffer{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if platform != nil {
		platform.Close()
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- platform log (tail) ---\n%s\n", platLog.tail(8<<10))
	}
	os.Exit(code)
}

func devPlatform(b *testing.B) *localdev.Platform {
	b.Helper()
	if testing.Short() {
		b.Skip("starts the whole local platform")
	}
	startOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		o := localdev.Options{Log: platLog, FunctionLog: platLog, Tracing: true}
		if os.Getenv("DEVBENCH_NO_EVENTS") != "" {
			o.NoEventSources, o.NoSchedules = true, true
		}
		if os.Getenv("DEVBENCH_NO_TRACING") != "" {
			o.Tracing = false
		}
		if v := os.Getenv("DEVBENCH_MAX_CONCURRENCY"); v != "" {
			fmt.Sscan(v, &o.MaxConcurrency)
		}
		if v := os.Getenv("DEVBENCH_FUNCTION_LOG"); v != "" {
			f, _ := os.Create(v)
			o.FunctionLog = f
		}
		platform, startErr = localdev.Start(ctx, o)
	})
	if startErr != nil {
		b.Fatalf("local platform: %v", startErr)
	}
	return platform
}

// tailBuffer keeps the last 64 KiB of the platform's log (shown on failure).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 64<<10 {
		t.b = append([]byte(nil), t.b[len(t.b)-32<<10:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) > n {
		return string(t.b[len(t.b)-n:])
	}
	return string(t.b)
}

// httpClient keeps enough idle connections for 1,000 concurrent callers.
var httpClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute}}

// answer is one gateway response.
type answer struct {
	status int
	body   []byte
	took   time.Duration
}

func (a answer) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// send makes one request through the gateway.
func send(p *localdev.Platform, method, path, token string, body any, headers ...string) (answer, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.URL()+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	begin := time.Now()
	res, err := httpClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	return answer{status: res.StatusCode, body: data, took: time.Since(begin)}, err
}

// must fails the benchmark unless the request answered want.
func must(b *testing.B, p *localdev.Platform, want int, method, path, token string, body any, out any) {
	b.Helper()
	a, err := send(p, method, path, token, body)
	if err != nil {
		b.Fatal(err)
	}
	if a.status != want {
		b.Fatalf("%s %s = %d %s, want %d", method, path, a.status, a.body, want)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			b.Fatal(err)
		}
	}
}

func token(b *testing.B, p *localdev.Platform, req localdev.TokenRequest) string {
	b.Helper()
	t, err := p.Token(req)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// branch is a Bangkok branch created through the API, open every day
// 07:00–16:00 in 15-minute slots with `stations` collection stations and a
// 15-minute blood draw bookable 60 days ahead.
type branch struct {
	id, service string
	stations    int
	bkk         *time.Location
}

func newBranch(b *testing.B, p *localdev.Platform, name string, stations int) branch {
	b.Helper()
	admin := token(b, p, localdev.TokenRequest{Role: localdev.RoleAdmin, Sub: "bench-admin"})
	var br struct{ ID string }
	must(b, p, 201, "POST", "/v1/branches", admin, map[string]any{"name": name, "timeZone": "Asia/Bangkok", "slotMinutes": 15}, &br)
	var weekly []map[string]string
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, map[string]string{"day": d, "open": "07:00", "close": "16:00"})
	}
	must(b, p, 200, "PUT", "/v1/branches/"+br.ID+"/hours", admin, map[string]any{"weekly": weekly, "closures": []any{}}, nil)
	for i := 1; i <= stations; i++ {
		must(b, p, 201, "POST", "/v1/branches/"+br.ID+"/resources", admin, map[string]any{"name": fmt.Sprintf("Station %d", i), "type": "collection_station"}, nil)
	}
	var svc struct{ ID string }
	must(b, p, 201, "POST", "/v1/branches/"+br.ID+"/services", admin, map[string]any{
		"name": "Blood draw", "durationMinutes": 15,
		"requires":         []map[string]any{{"type": "collection_station", "count": 1}},
		"minNoticeMinutes": 60, "maxAdvanceDays": 60, "cancelCutoffMinutes": 120,
	}, &svc)
	bkk, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		b.Fatal(err)
	}
	return branch{id: br.ID, service: svc.ID, stations: stations, bkk: bkk}
}

// day returns the branch-local midnight n days from today.
func (br branch) day(n int) time.Time {
	d := time.Now().In(br.bkk).AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, br.bkk)
}

// slot returns the start of the k-th 15-minute slot (0..35) of day n.
func (br branch) slot(n, k int) string {
	return br.day(n).Add(7*time.Hour + time.Duration(k)*15*time.Minute).Format(time.RFC3339)
}

// booker is a patient with a token, ready to book.
type booker struct {
	patient, token string
}

// bookers signs n patient tokens (before any timing: RS256 signing is the
// client's cost, not the platform's).
func bookers(b *testing.B, p *localdev.Platform, prefix string, n int) []booker {
	b.Helper()
	out := make([]booker, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = booker{patient: id, token: token(b, p, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "sub-" + id, PatientID: id})}
	}
	return out
}

// book sends one booking of start at the branch as the booker.
func (br branch) book(p *localdev.Platform, who booker, start, key string) (answer, error) {
	return send(p, "POST", "/v1/appointments", who.token, map[string]any{
		"branchId": br.id, "serviceId": br.service, "start": start,
		"patient": map[string]any{"name": "Somchai Jaidee", "phone": "+66812345678", "email": "somchai@example.com", "locale": "th"},
	}, "Idempotency-Key", key)
}

// parallel runs job(0..n-1) on `clients` goroutines and returns the wall time.
func parallel(n, clients int, job func(i int)) time.Duration {
	var next sync.Mutex
	i := 0
	take := func() int {
		next.Lock()
		defer next.Unlock()
		i++
		return i - 1
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := take(); k < n; k = take() {
				job(k)
			}
		}()
	}
	wg.Wait()
	return time.Since(begin)
}
