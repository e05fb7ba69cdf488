package domain

import (
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

var allStatuses = []Status{StatusBooked, StatusCheckedIn, StatusCompleted, StatusCancelled, StatusNoShow, "", "BOOKED", "rescheduled"}

func TestCanTransitionEveryPair(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusBooked, StatusCheckedIn}:    true,
		{StatusBooked, StatusCancelled}:    true,
		{StatusBooked, StatusNoShow}:       true,
		{StatusCheckedIn, StatusCompleted}: true,
	}
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			want := allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("%q → %q: %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestHolds(t *testing.T) {
	want := map[Status]bool{StatusBooked: true, StatusCheckedIn: true, StatusCompleted: true}
	for _, s := range allStatuses {
		if got := s.Holds(); got != want[s] {
			t.Errorf("%q.Holds() = %v", s, got)
		}
	}
}

func TestCheckPatientChange(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	appt := Appointment{ID: "a1", Status: StatusBooked, Start: start, End: start.Add(15 * time.Minute)}
	patient := Actor{ID: "u1", Role: RolePatient, PatientID: "p1"}
	staff := Actor{ID: "u2", Role: RoleStaff, BranchIDs: []string{"br1"}}
	admin := Actor{ID: "u3", Role: RoleAdmin}
	svc := func(cutoff int) Service { return Service{ID: "s", CancelCutoffMinutes: cutoff} }
	tests := []struct {
		name   string
		actor  Actor
		cutoff int
		now    time.Time
		msg    string // "" → allowed
	}{
		{"patient well before", patient, 120, start.Add(-3 * time.Hour), ""},
		{"patient a nanosecond before the cutoff", patient, 120, start.Add(-2*time.Hour - time.Nanosecond), ""},
		{"patient at the cutoff", patient, 120, start.Add(-2 * time.Hour), "within 120 minutes"},
		{"patient after the cutoff", patient, 120, start.Add(-time.Hour), "within 120 minutes"},
		{"patient after the start", patient, 120, start.Add(time.Hour), "within 120 minutes"},
		{"patient no cutoff, before start", patient, 0, start.Add(-time.Second), ""},
		{"patient no cutoff, at start", patient, 0, start, "already started"},
		{"patient negative cutoff acts as none", patient, -30, start.Add(-time.Second), ""},
		{"patient in another zone", patient, 60, start.UTC().Add(-59 * time.Minute), "within 60 minutes"},
		{"staff after the cutoff", staff, 120, start.Add(-time.Hour), ""},
		{"staff after the start", staff, 120, start.Add(time.Hour), ""},
		{"admin after the cutoff", admin, 120, start.Add(-time.Minute), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPatientChange(tc.actor, svc(tc.cutoff), appt, tc.now)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			wantCode(t, err, apperr.CancelCutoff, tc.msg)
		})
	}
}
