package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// fakeReports answers one campaign, visible to admins and staff of br_1.
type fakeReports struct{ actors []domain.Actor }

func (f *fakeReports) CampaignReport(_ context.Context, a domain.Actor, id string) (app.CampaignReport, error) {
	f.actors = append(f.actors, a)
	if id != "acme-2026" || !a.InBranch("br_1") {
		return app.CampaignReport{}, apperr.E(apperr.NotFound, "campaign %q not found", id)
	}
	return app.CampaignReport{CampaignID: id, BranchID: "br_1", ServiceID: "svc_1",
		Window:   domain.RosterWindow{From: "2026-12-01", To: "2026-12-02"},
		Placed:   []app.PlacedReport{{ExternalID: "e1", AppointmentID: "apt_1", Start: time.Date(2026, 12, 1, 7, 0, 0, 0, bangkok)}},
		Unplaced: []app.UnplacedReport{{ExternalID: "e2", Reason: domain.PlacementNoCapacity}},
		Pending:  1}, nil
}

func TestGetCheckupCampaign(t *testing.T) {
	reports := &fakeReports{}
	rt := GetCheckupCampaign(reports)
	h := newHarness()
	ev := adminEvent(t, rt, map[string]string{"campaignId": "acme-2026"}, nil, "")

	resp := h.serve(t, rt, ev)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: status %d: %s", resp.StatusCode, resp.Body)
	}
	want := `{"campaignId":"acme-2026","branchId":"br_1","serviceId":"svc_1","window":{"from":"2026-12-01","to":"2026-12-02"},` +
		`"placed":[{"externalId":"e1","appointmentId":"apt_1","start":"2026-12-01T07:00:00+07:00"}],` +
		`"unplaced":[{"externalId":"e2","reason":"no_capacity"}],"pending":1}`
	var got, exp any
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(want), &exp)
	if b1, _ := json.Marshal(got); string(b1) != func() string { b, _ := json.Marshal(exp); return string(b) }() {
		t.Errorf("body = %s\nwant %s", resp.Body, want)
	}
	if a := reports.actors[0]; a.ID != "admin-1" || a.Role != domain.RoleAdmin {
		t.Errorf("actor = %+v", a)
	}

	staffOther := withClaims(ev, map[string]string{"sub": "s-2", "cognito:groups": "[staff]", "custom:branch_ids": "br_2"})
	if resp := h.serve(t, rt, staffOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("staff of another branch: status %d, want 404: %s", resp.StatusCode, resp.Body)
	}
	staff := withClaims(ev, map[string]string{"sub": "s-1", "cognito:groups": "[staff]", "custom:branch_ids": "br_1"})
	if resp := h.serve(t, rt, staff); resp.StatusCode != http.StatusOK {
		t.Errorf("staff of the branch: status %d, want 200: %s", resp.StatusCode, resp.Body)
	}

	// The registry's placeholder for use cases without reports is a 500.
	resp = h.serve(t, GetCheckupCampaign(checkupReportsOf(noReportsSvc{})), ev)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("unwired reports: status %d, want 500", resp.StatusCode)
	}
}

// CampaignReport makes fakeSvc a CheckupReports, so the registry serves the
// campaign route with it (TestSharedEventsAreServed).
func (f *fakeSvc) CampaignReport(_ context.Context, a domain.Actor, id string) (app.CampaignReport, error) {
	f.record("CampaignReport", a, id)
	return app.CampaignReport{CampaignID: id, BranchID: "br_1", ServiceID: "svc_1",
		Window: domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"},
		Placed: []app.PlacedReport{}, Unplaced: []app.UnplacedReport{}}, f.err
}

// noReportsSvc is UseCases without CampaignReport.
type noReportsSvc struct{ UseCases }
