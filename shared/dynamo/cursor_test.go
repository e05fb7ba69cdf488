package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func getInput(s *Store, k string) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: s.table, Key: key(idemPK(k), skIdem), ConsistentRead: aws.Bool(true)}
}

// collect pages through a list with the given limit.
func collect(tb testing.TB, limit int, list func(cursor string) (app.Page[domain.Appointment], error)) (ids []string, pages []int) {
	tb.Helper()
	cursor := ""
	for {
		p, err := list(cursor)
		ok(tb, err)
		if len(p.Items) > limit {
			tb.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		pages = append(pages, len(p.Items))
		for _, a := range p.Items {
			ids = append(ids, a.ID)
		}
		if p.Cursor == "" {
			return ids, pages
		}
		if len(pages) > 20 {
			tb.Fatal("too many pages")
		}
		cursor = p.Cursor
	}
}

func TestListsAndCursors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// Five appointments on br_1 2026-12-01 (created out of order), two for
	// pat_1 among them, plus noise on other days, branches and patients.
	starts := []int{11, 9, 13, 10, 12}
	for i, h := range starts {
		pat := "pat_x"
		if h == 9 || h == 13 {
			pat = "pat_1"
		}
		a := appt(fmt.Sprintf("apt_%d", i), "br_1", pat, at(1, h, 0), 1, "res_a")
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	}
	for _, a := range []domain.Appointment{
		appt("apt_n1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a"),
		appt("apt_n2", "br_2", "pat_1", at(1, 8, 0), 1, "res_a"),
		appt("apt_n5", "br_2", "pat_3", at(1, 8, 15), 1, "res_a"),
		appt("apt_n3", "br_1", "pat_2", at(1, 23, 45), 1, "res_b"), // late evening, still Dec 1 locally
		appt("apt_n4", "br_1", "pat_2", at(1, 0, 0), 1, "res_b"),   // midnight local = Nov 30 UTC
	} {
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	}

	byDay := func(branch, date string, limit int) func(string) (app.Page[domain.Appointment], error) {
		return func(c string) (app.Page[domain.Appointment], error) {
			return s.ListAppointmentsByBranchDay(ctx, branch, date, limit, c)
		}
	}
	ids, pages := collect(t, 2, byDay("br_1", "2026-12-01", 2))
	sameJSON(t, "branch-day ids", ids, []string{"apt_n4", "apt_1", "apt_3", "apt_0", "apt_4", "apt_2", "apt_n3"})
	sameJSON(t, "branch-day pages", pages, []int{2, 2, 2, 1})

	// Exactly filled last page: no trailing empty page.
	ids, pages = collect(t, 7, byDay("br_1", "2026-12-01", 7))
	if len(ids) != 7 || len(pages) != 1 {
		t.Fatalf("limit 7: %v %v", ids, pages)
	}
	_, pages = collect(t, 50, byDay("br_1", "2026-12-01", 0)) // 0 = default
	sameJSON(t, "default page", pages, []int{7})
	_, pages = collect(t, 2, byDay("br_9", "2026-12-01", 2))
	sameJSON(t, "empty list", pages, []int{0})

	byPatient := func(patient string, limit int) func(string) (app.Page[domain.Appointment], error) {
		return func(c string) (app.Page[domain.Appointment], error) {
			return s.ListAppointmentsByPatient(ctx, patient, limit, c)
		}
	}
	ids, pages = collect(t, 2, byPatient("pat_1", 2))
	sameJSON(t, "patient ids", ids, []string{"apt_n2", "apt_1", "apt_2", "apt_n1"})
	sameJSON(t, "patient pages", pages, []int{2, 2})

	// Items are whole appointments.
	p, err := s.ListAppointmentsByPatient(ctx, "pat_1", 1, "")
	ok(t, err)
	got, err := s.GetAppointment(ctx, "apt_n2")
	ok(t, err)
	sameJSON(t, "listed item", p.Items[0], got)

	// Bad cursors.
	dayCursor := func(branch, date string) string {
		p, err := s.ListAppointmentsByBranchDay(ctx, branch, date, 1, "")
		ok(t, err)
		if p.Cursor == "" {
			t.Fatalf("no cursor for %s %s", branch, date)
		}
		return p.Cursor
	}
	c1 := dayCursor("br_1", "2026-12-01")
	patCursor, err := s.ListAppointmentsByPatient(ctx, "pat_2", 1, "")
	ok(t, err)
	for name, bad := range map[string]string{
		"garbage":            "not a cursor!",
		"base64 of garbage":  base64.RawURLEncoding.EncodeToString([]byte("{nope")),
		"empty object":       base64.RawURLEncoding.EncodeToString([]byte("{}")),
		"forged key":         base64.RawURLEncoding.EncodeToString([]byte(`{"PK":"BRANCH#br_1","SK":"#META","GSI1PK":"BRDAY#br_1#2026-12-01","GSI1SK":"x#br_1"}`)),
		"numbers":            base64.RawURLEncoding.EncodeToString([]byte(`{"PK":1,"SK":2,"GSI1PK":3,"GSI1SK":4}`)),
		"other branch":       dayCursor("br_2", "2026-12-01"),
		"other patient list": patCursor.Cursor,
	} {
		_, err := s.ListAppointmentsByBranchDay(ctx, "br_1", "2026-12-01", 2, bad)
		if apperr.CodeOf(err) != apperr.Validation || apperr.MessageOf(err) != "invalid cursor" {
			t.Errorf("%s: err = %v, want VALIDATION_FAILED invalid cursor", name, err)
		}
	}
	// A cursor of one day does not pivot into another day of the same branch,
	// and a branch-day cursor is not a patient cursor.
	_, err = s.ListAppointmentsByBranchDay(ctx, "br_1", "2026-12-02", 2, c1)
	wantCode(t, err, apperr.Validation)
	_, err = s.ListAppointmentsByPatient(ctx, "pat_1", 2, c1)
	wantCode(t, err, apperr.Validation)
	_, err = s.ListAppointmentsByPatient(ctx, "pat_1", 2, patCursor.Cursor)
	wantCode(t, err, apperr.Validation)
	// The genuine cursor works.
	p, err = s.ListAppointmentsByBranchDay(ctx, "br_1", "2026-12-01", 2, c1)
	ok(t, err)
	if len(p.Items) != 2 || p.Items[0].ID != "apt_1" {
		t.Fatalf("page after cursor: %v", p.Items)
	}
}
