package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/localdev"
)

// campaignReport is GET /v1/checkup-campaigns/{campaignId}.
type campaignReport struct {
	CampaignID string
	Placed     []struct {
		ExternalID, AppointmentID string
		Start                     time.Time
	}
	Unplaced []struct{ ExternalID, Reason string }
	Pending  int
}

// TestCheckupRosterBooksEveryone sends a roster of 20 (twice, as a
// redelivering producer would) to the roster queue; the roster consumer splits
// it into work, the booking consumer books each participant, and the report
// shows every participant placed once, at distinct appointments, visible to
// staff of the branch only.
func TestCheckupRosterBooksEveryone(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay().Format("2006-01-02")
	campaign := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	var participants []map[string]any
	for i := range 20 {
		p := map[string]any{"externalId": fmt.Sprintf("emp-%02d", i), "name": fmt.Sprintf("Employee %d", i),
			"phone": "+66812345678", "email": fmt.Sprintf("emp%d@example.com", i), "locale": "en"}
		if i == 3 {
			p["preferredDate"] = day
		}
		participants = append(participants, p)
	}
	roster, _ := json.Marshal(map[string]any{
		"schemaVersion": 1, "eventId": campaign + "-roster", "type": "checkup.roster",
		"occurredAt": time.Now().UTC().Format(time.RFC3339), "campaignId": campaign,
		"branchId": s.branchID, "serviceId": s.serviceID,
		"window":       map[string]string{"from": day, "to": day},
		"participants": participants,
	})
	c := sqsClient(platform.SQSEndpoint())
	url := platform.QueueURL("CheckupRosterQueue")
	for range 2 {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: stringPtr(string(roster))}); err != nil {
			t.Fatal(err)
		}
	}

	var rep campaignReport
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.staff.do("GET", "/v1/checkup-campaigns/{campaignId}", "/v1/checkup-campaigns/"+campaign, nil)
		if r.status == 200 {
			rep = campaignReport{}
			r.decode(t, &rep)
			if rep.Pending == 0 && len(rep.Placed)+len(rep.Unplaced) == 20 {
				break
			}
		} else if r.status != 404 { // 404 until the roster is recorded
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign not settled after 30 s: status %d, report %+v", r.status, rep)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(rep.Placed) != 20 || len(rep.Unplaced) != 0 {
		t.Fatalf("placed %d, unplaced %+v; want all 20 placed", len(rep.Placed), rep.Unplaced)
	}
	seen := map[string]bool{}
	for _, p := range rep.Placed {
		if seen[p.AppointmentID] {
			t.Fatalf("appointment %s given twice", p.AppointmentID)
		}
		seen[p.AppointmentID] = true
		var a appt
		s.staff.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+p.AppointmentID, nil).decode(t, &a)
		if a.Status != "booked" || !a.Start.Equal(p.Start) || a.Start.Format("2006-01-02") != day {
			t.Fatalf("appointment %+v does not match placement %+v", a, p)
		}
	}
	// The day holds exactly these 20 bookings: nobody was booked twice.
	var page struct{ Items []appt }
	s.staff.expect(200, "GET", "/v1/appointments", "/v1/appointments?branchId="+s.branchID+"&date="+day+"&limit=100", nil).decode(t, &page)
	if len(page.Items) != 20 {
		t.Fatalf("%d appointments on the day, want 20", len(page.Items))
	}

	other := as(t, localdev.TokenRequest{Role: localdev.RoleStaff, Sub: "staff-other", BranchIDs: []string{"br_elsewhere"}})
	if r := other.do("GET", "/v1/checkup-campaigns/{campaignId}", "/v1/checkup-campaigns/"+campaign, nil); r.status != 404 || r.code() != "NOT_FOUND" {
		t.Fatalf("staff of another branch: %d %s, want 404", r.status, r.body)
	}
	s.admin.expect(200, "GET", "/v1/checkup-campaigns/{campaignId}", "/v1/checkup-campaigns/"+campaign, nil)
}

func stringPtr(s string) *string { return &s }
