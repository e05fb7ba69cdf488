package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/apicheck"
	"github.com/labchain/appointments/infra/localdev"
)

var (
	platform *localdev.Platform
	spec     *apicheck.Spec
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The platform is expensive (it builds every function); start it only when a test runs.
	code := m.Run()
	if platform != nil {
		// Every event the run's flows emitted must pass its contract.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		problems, checked, err := emittedEventProblems(ctx, platform)
		cancel()
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "FAIL: checking the emitted events: %v\n", err)
			code = 1
		case checked == 0 && code == 0:
			fmt.Fprintln(os.Stderr, "FAIL: no outbox record found after the run: the event contract check saw nothing")
			code = 1
		case len(problems) > 0:
			fmt.Fprintf(os.Stderr, "FAIL: %d of %d emitted events break the event contract (docs/contracts/events):\n", len(problems), checked)
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, "  "+p)
			}
			code = 1
		default:
			fmt.Fprintf(os.Stderr, "event contract: %d emitted events checked\n", checked)
		}
		platform.Close()
	}
	return code
}

var startOnce sync.Once
var startErr error

func start(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds every function and starts the local platform")
	}
	startOnce.Do(func() {
		var err error
		spec, err = apicheck.Load(filepath.Join("..", "..", "docs", "openapi.yaml"))
		if err != nil {
			startErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		// Every function's output is kept (observability_test.go reads it),
		// and spans go to a local Jaeger.
		platform, startErr = localdev.Start(ctx, localdev.Options{Port: 0, DynamoPort: 0, Log: io.Discard, FunctionLog: functionLogs,
			MaxConcurrency: 4, Tracing: true,
			// A provider failure is final on a job's first delivery here: the
			// queue's 180 s redelivery is too slow for a test (the unit tests
			// of shared/notify cover the outage that spans redeliveries).
			Env: map[string]string{"NOTIFY_FINAL_RECEIVE": "1"}})
	})
	if startErr != nil {
		t.Fatalf("local platform: %v", startErr)
	}
}

type client struct {
	t     *testing.T
	token string
}

func as(t *testing.T, req localdev.TokenRequest) client {
	t.Helper()
	tok, err := platform.Token(req)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, token: tok}
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request; route is the template path ("/v1/appointments/{id}") used
// to validate the response against the OpenAPI document.
func (c client) do(method, route, path string, body any, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, platform.URL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	if c.token != "" {
		req.Header.Set("authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, body: b, header: res.Header}
	if res.StatusCode != http.StatusUnauthorized || c.token != "" { // the gateway's own 401 is API Gateway's shape, not ours
		if err := spec.ValidateResponse(method, route, res.StatusCode, b); err != nil {
			c.t.Errorf("response does not match docs/openapi.yaml: %v\nbody: %s", err, b)
		}
	}
	return r
}

func (c client) expect(want int, method, route, path string, body any, headers ...string) response {
	c.t.Helper()
	r := c.do(method, route, path, body, headers...)
	if r.status != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}

type appt struct {
	ID        string
	Status    string
	Start     time.Time
	Version   int
	Resources []string
	Patient   struct{ ID string }
}

// visitDay is a branch-local date a few days ahead, inside every booking window.
func visitDay() time.Time {
	bkk, _ := time.LoadLocation("Asia/Bangkok")
	d := time.Now().In(bkk).AddDate(0, 0, 3)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, bkk)
}

func at(day time.Time, hhmm string) string {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).Format(time.RFC3339)
}

type setup struct {
	branchID, serviceID string
	stations            []string
	admin, staff        client
}

// newBranch creates, as admin through the API, a Bangkok branch open every day
// 07:00–16:00 with two collection stations and a 15-minute fasting blood draw.
func newBranch(t *testing.T) setup {
	admin := as(t, localdev.TokenRequest{Role: localdev.RoleAdmin, Sub: "admin-1"})
	var br struct{ ID string }
	admin.expect(201, "POST", "/v1/branches", "/v1/branches", map[string]any{"name": "Silom", "timeZone": "Asia/Bangkok", "slotMinutes": 15}).decode(t, &br)
	var weekly []map[string]string
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, map[string]string{"day": d, "open": "07:00", "close": "16:00"})
	}
	admin.expect(200, "PUT", "/v1/branches/{branchId}/hours", "/v1/branches/"+br.ID+"/hours", map[string]any{"weekly": weekly, "closures": []any{}})
	s := setup{branchID: br.ID, admin: admin}
	for i := 1; i <= 2; i++ {
		var r struct{ ID string }
		admin.expect(201, "POST", "/v1/branches/{branchId}/resources", "/v1/branches/"+br.ID+"/resources", map[string]any{"name": fmt.Sprintf("Station %d", i), "type": "collection_station"}).decode(t, &r)
		s.stations = append(s.stations, r.ID)
	}
	var svc struct{ ID string }
	admin.expect(201, "POST", "/v1/branches/{branchId}/services", "/v1/branches/"+br.ID+"/services", map[string]any{
		"name": "Fasting blood draw", "durationMinutes": 15,
		"requires":         []map[string]any{{"type": "collection_station", "count": 1}},
		"preparation":      map[string]any{"fastingHours": 8, "instructions": map[string]string{"en": "Water only", "th": "ดื่มน้ำเปล่าได้"}},
		"minNoticeMinutes": 60, "maxAdvanceDays": 60, "cancelCutoffMinutes": 120,
	}).decode(t, &svc)
	s.serviceID = svc.ID
	s.staff = as(t, localdev.TokenRequest{Role: localdev.RoleStaff, Sub: "staff-1", BranchIDs: []string{br.ID}})
	return s
}

func (s setup) available(c client, day time.Time, start string) int {
	date := day.Format("2006-01-02")
	var out struct {
		Slots []struct {
			Start     time.Time
			Available int
		}
	}
	c.expect(200, "GET", "/v1/availability", "/v1/availability?branchId="+s.branchID+"&serviceId="+s.serviceID+"&from="+date+"&to="+date, nil).decode(c.t, &out)
	want, _ := time.Parse(time.RFC3339, start)
	for _, sl := range out.Slots {
		if sl.Start.Equal(want) {
			return sl.Available
		}
	}
	return 0
}

func book(s setup, start, patientID string) map[string]any {
	return map[string]any{"branchId": s.branchID, "serviceId": s.serviceID, "start": start,
		"patient": map[string]any{"id": patientID, "name": "Somchai Jaidee", "phone": "+66812345678", "email": "somchai@example.com", "locale": "th"}}
}

// TestBookingJourney walks the journey through the real functions:
// admin sets up a branch, a patient books, reschedules and cancels, staff check
// in and complete, and another patient cannot see any of it.
func TestBookingJourney(t *testing.T) {
	start(t)
	anon := client{t: t}
	anon.expect(200, "GET", "/v1/health", "/v1/health", nil)
	if r := anon.do("GET", "/v1/branches", "/v1/branches", nil); r.status != 401 {
		t.Fatalf("no token: %d, want 401", r.status)
	}

	s := newBranch(t)
	day := visitDay()
	a := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-a", PatientID: "p-a"})
	b := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-b", PatientID: "p-b"})

	// Reads of configuration are open to any authenticated caller.
	a.expect(200, "GET", "/v1/branches/{branchId}", "/v1/branches/"+s.branchID, nil)
	a.expect(200, "GET", "/v1/branches/{branchId}/hours", "/v1/branches/"+s.branchID+"/hours", nil)
	a.expect(200, "GET", "/v1/branches/{branchId}/resources", "/v1/branches/"+s.branchID+"/resources", nil)
	a.expect(200, "GET", "/v1/branches/{branchId}/services", "/v1/branches/"+s.branchID+"/services", nil)
	a.expect(200, "GET", "/v1/branches", "/v1/branches", nil)
	if r := a.do("POST", "/v1/branches", "/v1/branches", map[string]any{"name": "x"}); r.status != 403 || r.code() != "FORBIDDEN" {
		t.Fatalf("patient creating a branch: %d %s", r.status, r.body)
	}
	s.staff.expect(200, "PATCH", "/v1/branches/{branchId}/resources/{resourceId}", "/v1/branches/"+s.branchID+"/resources/"+s.stations[1], map[string]any{"name": "Station 2 (window)"})

	eight, nine, ten := at(day, "08:00"), at(day, "09:00"), at(day, "10:00")
	if got := s.available(a, day, eight); got != 2 {
		t.Fatalf("available at 08:00 = %d, want 2", got)
	}

	// Book with an idempotency key; the replay returns the same bytes and books nothing.
	first := a.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, eight, "ignored"), "Idempotency-Key", "k-journey-1")
	var booked appt
	first.decode(t, &booked)
	if booked.Status != "booked" || booked.Patient.ID != "p-a" {
		t.Fatalf("booked = %+v (patient id must come from the token)", booked)
	}
	replay := a.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, eight, "ignored"), "Idempotency-Key", "k-journey-1")
	if !bytes.Equal(replay.body, first.body) {
		t.Fatalf("replay body differs:\n%s\n%s", first.body, replay.body)
	}
	if got := s.available(a, day, eight); got != 1 {
		t.Fatalf("available at 08:00 after booking and replay = %d, want 1", got)
	}
	if r := a.do("POST", "/v1/appointments", "/v1/appointments", book(s, nine, "x"), "Idempotency-Key", "k-journey-1"); r.status != 422 || r.code() != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("reused key: %d %s", r.status, r.body)
	}
	if r := a.do("POST", "/v1/appointments", "/v1/appointments", book(s, nine, "x")); r.status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("missing Idempotency-Key: %d %s", r.status, r.body)
	}
	bad := book(s, nine, "x")
	bad["status"] = "completed"
	if r := a.do("POST", "/v1/appointments", "/v1/appointments", bad, "Idempotency-Key", "k-mass"); r.status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}

	id := booked.ID
	path := "/v1/appointments/" + id
	// Another patient, and staff of another branch, see nothing.
	for _, c := range []client{b, as(t, localdev.TokenRequest{Role: localdev.RoleStaff, Sub: "staff-x", BranchIDs: []string{"br_elsewhere"}})} {
		if r := c.do("GET", "/v1/appointments/{id}", path, nil); r.status != 404 || r.code() != "NOT_FOUND" {
			t.Fatalf("foreign read: %d %s", r.status, r.body)
		}
		if r := c.do("GET", "/v1/appointments/{id}/history", path+"/history", nil); r.status != 404 {
			t.Fatalf("foreign history: %d %s", r.status, r.body)
		}
		if r := c.do("POST", "/v1/appointments/{id}/cancel", path+"/cancel", map[string]any{}); r.status != 404 {
			t.Fatalf("foreign cancel: %d %s", r.status, r.body)
		}
	}

	// Reschedule moves the capacity.
	var moved appt
	a.expect(200, "POST", "/v1/appointments/{id}/reschedule", path+"/reschedule", map[string]any{"start": nine}).decode(t, &moved)
	if moved.Version != 2 || moved.Start.Format(time.RFC3339) != nine {
		t.Fatalf("moved = %+v", moved)
	}
	if s.available(a, day, eight) != 2 || s.available(a, day, nine) != 1 {
		t.Fatal("reschedule did not release 08:00 and take 09:00")
	}

	// A second booking, cancelled: capacity is free again at once.
	var other appt
	a.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, ten, ""), "Idempotency-Key", "k-journey-2").decode(t, &other)
	var cancelled appt
	a.expect(200, "POST", "/v1/appointments/{id}/cancel", "/v1/appointments/"+other.ID+"/cancel", map[string]any{"reason": "travel"}).decode(t, &cancelled)
	if cancelled.Status != "cancelled" || s.available(a, day, ten) != 2 {
		t.Fatalf("cancel: status %s, available %d", cancelled.Status, s.available(a, day, ten))
	}

	// Staff run the visit.
	if r := a.do("POST", "/v1/appointments/{id}/check-in", path+"/check-in", nil); r.status != 403 {
		t.Fatalf("patient check-in: %d %s", r.status, r.body)
	}
	s.staff.expect(200, "POST", "/v1/appointments/{id}/check-in", path+"/check-in", nil)
	if r := s.staff.do("POST", "/v1/appointments/{id}/no-show", path+"/no-show", nil); r.status != 409 || r.code() != "INVALID_TRANSITION" {
		t.Fatalf("checked_in → no_show: %d %s", r.status, r.body)
	}
	var done appt
	s.staff.expect(200, "POST", "/v1/appointments/{id}/complete", path+"/complete", map[string]any{"reason": "sample taken"}).decode(t, &done)
	if done.Status != "completed" {
		t.Fatalf("status = %s", done.Status)
	}

	var hist struct {
		Items []struct{ From, To string }
	}
	a.expect(200, "GET", "/v1/appointments/{id}/history", path+"/history", nil).decode(t, &hist)
	var steps []string
	for _, h := range hist.Items {
		steps = append(steps, h.From+">"+h.To)
	}
	if strings.Join(steps, ",") != ">booked,booked>booked,booked>checked_in,checked_in>completed" {
		t.Fatalf("history = %v", steps)
	}
	a.expect(200, "GET", "/v1/appointments/{id}", path, nil)

	var mine struct{ Items []appt }
	a.expect(200, "GET", "/v1/appointments", "/v1/appointments?patientId=p-a&limit=10", nil).decode(t, &mine)
	if len(mine.Items) != 2 {
		t.Fatalf("patient's list = %d items, want 2", len(mine.Items))
	}
	var dayList struct{ Items []appt }
	s.staff.expect(200, "GET", "/v1/appointments", "/v1/appointments?branchId="+s.branchID+"&date="+day.Format("2006-01-02"), nil).decode(t, &dayList)
	if len(dayList.Items) != 2 {
		t.Fatalf("branch day list = %d items, want 2", len(dayList.Items))
	}
	if r := a.do("GET", "/v1/availability", "/v1/availability?branchId="+s.branchID+"&serviceId="+s.serviceID+"&from=2026-01-01&to=2026-03-01", nil); r.status != 400 {
		t.Fatalf("62-day availability: %d", r.status)
	}
}

// TestConcurrentBookingsThroughTheAPI: 50 patients book the same start at a
// branch with 2 stations, through the gateway and several emulator instances
// → exactly 2 × 201 and 48 × 409, and the branch holds exactly 2 appointments.
func TestConcurrentBookingsThroughTheAPI(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay()
	slot := at(day, "11:00")
	const n = 50
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: fmt.Sprintf("racer-%d", i), PatientID: fmt.Sprintf("p-race-%d", i)})
		wg.Add(1)
		go func(i int, c client) {
			defer wg.Done()
			r := c.do("POST", "/v1/appointments", "/v1/appointments", book(s, slot, ""), "Idempotency-Key", fmt.Sprintf("race-%d", i))
			statuses[i], codes[i] = r.status, r.code()
		}(i, c)
	}
	wg.Wait()
	created, full := 0, 0
	for i := range statuses {
		switch {
		case statuses[i] == 201:
			created++
		case statuses[i] == 409 && codes[i] == "SLOT_UNAVAILABLE":
			full++
		default:
			t.Errorf("request %d: %d %s", i, statuses[i], codes[i])
		}
	}
	if created != 2 || full != n-2 {
		t.Fatalf("201 × %d, 409 × %d; want 2 and %d", created, full, n-2)
	}
	var list struct{ Items []appt }
	s.staff.expect(200, "GET", "/v1/appointments", "/v1/appointments?branchId="+s.branchID+"&date="+day.Format("2006-01-02")+"&limit=100", nil).decode(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("branch holds %d appointments, want 2", len(list.Items))
	}
	if list.Items[0].Resources[0] == list.Items[1].Resources[0] {
		t.Fatal("both appointments hold the same station")
	}
}
