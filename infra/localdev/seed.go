package localdev

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SeedResult holds the ids of the demo data Start creates with Options.Seed.
type SeedResult struct {
	// BranchID is the demo branch (Asia/Bangkok, 15-minute grid, open
	// Monday to Saturday 07:00–16:00).
	BranchID string `json:"branchId"`
	// Resources are the branch's resources in creation order: two
	// collection_station, one room, one nurse.
	Resources []SeededResource `json:"resources"`
	// FastingBloodDrawID is the 15-minute "Fasting blood draw" service (one
	// collection_station, 8 h fasting, 60 min notice, 60 days ahead, 120 min
	// cancel cut-off).
	FastingBloodDrawID string `json:"fastingBloodDrawId"`
	// ExecutiveCheckupID is the 60-minute "Executive check-up" service (one
	// room and one nurse).
	ExecutiveCheckupID string `json:"executiveCheckupId"`
}

// SeededResource is one resource of the demo branch.
type SeededResource struct {
	// ID is the resource id the API returned.
	ID string `json:"id"`
	// Name is the resource's display name.
	Name string `json:"name"`
	// Type is the resource type, e.g. "collection_station".
	Type string `json:"type"`
}

// demoZone is the demo branch's zone (Asia/Bangkok has no daylight saving).
var demoZone = time.FixedZone("ICT", 7*3600)

// seedDemo creates the demo data through the API with an admin token.
func seedDemo(ctx context.Context, baseURL string, auth *authority) (*SeedResult, error) {
	token, err := auth.issue(TokenRequest{Role: RoleAdmin, Sub: "local-seed"})
	if err != nil {
		return nil, err
	}
	c := &seedClient{base: baseURL, token: token, http: &http.Client{Timeout: 60 * time.Second}}
	res := &SeedResult{}

	res.BranchID, err = c.create(ctx, "/v1/branches", map[string]any{
		"name": "Demo branch – Sukhumvit", "timeZone": "Asia/Bangkok", "slotMinutes": 15,
	})
	if err != nil {
		return nil, err
	}
	base := "/v1/branches/" + res.BranchID

	var weekly []map[string]string
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, map[string]string{"day": d, "open": "07:00", "close": "16:00"})
	}
	if err := c.call(ctx, http.MethodPut, base+"/hours", map[string]any{
		"weekly": weekly, "closures": []any{},
	}, http.StatusOK, nil); err != nil {
		return nil, err
	}

	for _, r := range []SeededResource{
		{Name: "Collection station 1", Type: "collection_station"},
		{Name: "Collection station 2", Type: "collection_station"},
		{Name: "Check-up room 1", Type: "room"},
		{Name: "Nurse Ploy", Type: "nurse"},
	} {
		if r.ID, err = c.create(ctx, base+"/resources", map[string]any{"name": r.Name, "type": r.Type}); err != nil {
			return nil, err
		}
		res.Resources = append(res.Resources, r)
	}

	services := []struct {
		id   *string
		body map[string]any
	}{
		{&res.FastingBloodDrawID, map[string]any{
			"name":            "Fasting blood draw",
			"durationMinutes": 15,
			"requires":        []map[string]any{{"type": "collection_station", "count": 1}},
			"preparation": map[string]any{
				"fastingHours": 8,
				"instructions": map[string]string{
					"th": "งดอาหารและเครื่องดื่มทุกชนิด ยกเว้นน้ำเปล่า อย่างน้อย 8 ชั่วโมงก่อนเจาะเลือด",
					"en": "No food or drinks except plain water for at least 8 hours before the blood draw.",
				},
			},
			"minNoticeMinutes":    60,
			"maxAdvanceDays":      60,
			"cancelCutoffMinutes": 120,
		}},
		{&res.ExecutiveCheckupID, map[string]any{
			"name":            "Executive check-up",
			"durationMinutes": 60,
			"requires":        []map[string]any{{"type": "room", "count": 1}, {"type": "nurse", "count": 1}},
		}},
	}
	for _, s := range services {
		if *s.id, err = c.create(ctx, base+"/services", s.body); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type seedClient struct {
	base, token string
	http        *http.Client
}

// create POSTs body and returns the id of the created thing (201 {"id"}).
func (c *seedClient) create(ctx context.Context, path string, body any) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, path, body, http.StatusCreated, &created); err != nil {
		return "", err
	}
	if created.ID == "" {
		return "", fmt.Errorf("localdev: seed POST %s: the answer has no id", path)
	}
	return created.ID, nil
}

func (c *seedClient) call(ctx context.Context, method, path string, body any, want int, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if method == http.MethodPost {
		key := make([]byte, 8)
		_, _ = rand.Read(key)
		req.Header.Set("Idempotency-Key", "seed-"+hex.EncodeToString(key))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("localdev: seed %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("localdev: seed %s %s: got %d, want %d: %s", method, path, resp.StatusCode, want, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("localdev: seed %s %s: %w (body %s)", method, path, err, data)
		}
	}
	return nil
}

// Examples returns the demo data's ids and ready-to-paste curl commands for
// the API at baseURL: a token, availability for the coming week, a booking
// with an Idempotency-Key, the patient's appointments, the messages of the
// local sink and a sink fault.
func (s *SeedResult) Examples(baseURL string) string {
	now := time.Now().In(demoZone)
	from := now.AddDate(0, 0, 1)
	to := now.AddDate(0, 0, 7)
	day := from
	for day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, demoZone).Format(time.RFC3339)

	var b strings.Builder
	fmt.Fprintf(&b, "Demo data\n")
	fmt.Fprintf(&b, "  branch     %s  (Asia/Bangkok, 15-min grid, mon–sat 07:00–16:00)\n", s.BranchID)
	for _, r := range s.Resources {
		fmt.Fprintf(&b, "  resource   %s  %s (%s)\n", r.ID, r.Name, r.Type)
	}
	fmt.Fprintf(&b, "  service    %s  Fasting blood draw (15 min, fasting 8 h)\n", s.FastingBloodDrawID)
	fmt.Fprintf(&b, "  service    %s  Executive check-up (60 min, room + nurse)\n", s.ExecutiveCheckupID)
	fmt.Fprintf(&b, "\nTry it (copy and paste):\n\n")
	fmt.Fprintf(&b, "  API=%s BRANCH=%s SERVICE=%s\n", baseURL, s.BranchID, s.FastingBloodDrawID)
	fmt.Fprintf(&b, "  TOKEN=$(curl -s -XPOST $API/_local/token -d '{\"role\":\"patient\",\"patientId\":\"p-1001\"}' | cut -d'\"' -f4)\n")
	fmt.Fprintf(&b, "  curl -s \"$API/v1/availability?branchId=$BRANCH&serviceId=$SERVICE&from=%s&to=%s\" -H \"Authorization: Bearer $TOKEN\"\n",
		from.Format("2006-01-02"), to.Format("2006-01-02"))
	fmt.Fprintf(&b, "  curl -s -XPOST $API/v1/appointments -H \"Authorization: Bearer $TOKEN\" -H \"Idempotency-Key: book-$(date +%%s)\" \\\n")
	fmt.Fprintf(&b, "    -H 'content-type: application/json' \\\n")
	fmt.Fprintf(&b, "    -d '{\"branchId\":\"'$BRANCH'\",\"serviceId\":\"'$SERVICE'\",\"start\":\"%s\",\"patient\":{\"id\":\"p-1001\",\"name\":\"Somchai Jaidee\",\"phone\":\"+66812345678\",\"locale\":\"th\"}}'\n", start)
	fmt.Fprintf(&b, "  curl -s \"$API/v1/appointments?patientId=p-1001\" -H \"Authorization: Bearer $TOKEN\"\n")
	fmt.Fprintf(&b, "  STAFF=$(curl -s -XPOST $API/_local/token -d '{\"role\":\"staff\",\"branchIds\":[\"'$BRANCH'\"]}' | cut -d'\"' -f4)\n")
	fmt.Fprintf(&b, "  curl -s \"$API/v1/appointments?branchId=$BRANCH&date=%s\" -H \"Authorization: Bearer $STAFF\"\n", day.Format("2006-01-02"))
	fmt.Fprintf(&b, "  curl -s \"$API/_local/messages?channel=sms\"      # the SMS and push messages sent (the local sink); emails: the Mailpit web UI\n")
	fmt.Fprintf(&b, "  curl -s -XPOST $API/_local/faults -d '{\"channel\":\"sms\",\"status\":503,\"count\":3}'   # the next 3 SMS fail with 503\n")
	return b.String()
}
