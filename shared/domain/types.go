// Package domain holds the booking core: the types of the clinic chain's world
// and the rules over them. It has no AWS imports, and every rule that depends on
// the current time takes `now` as a parameter.
//
// The API does not serialise these types: shared/httpapi maps them to its own
// wire types (docs/openapi.yaml is their contract). The JSON tags here remain
// for the other users that still encode domain values directly; fields
// tagged "-" are internal.
package domain

import "time"

// Role is the caller's role, taken from the JWT's cognito:groups claim.
type Role string

// Roles.
const (
	RoleAnonymous Role = "anonymous"
	RolePatient   Role = "patient"
	RoleStaff     Role = "staff"
	RoleAdmin     Role = "admin"
	// RoleSystem is another system acting through an integration (the LIS,
	// the POS). It appears in history entries only: no token carries it, so
	// no API caller ever has it.
	RoleSystem Role = "system"
)

// Actor is whoever makes a request.
type Actor struct {
	ID        string   // JWT sub
	Role      Role     // one role; admin > staff > patient when several groups are given
	PatientID string   // custom:patient_id, patients only
	BranchIDs []string // custom:branch_ids, staff only
}

// InBranch reports whether a staff actor works at the branch. Admins are in
// every branch; patients in none.
func (a Actor) InBranch(branchID string) bool {
	if a.Role == RoleAdmin {
		return true
	}
	if a.Role != RoleStaff {
		return false
	}
	for _, b := range a.BranchIDs {
		if b == branchID {
			return true
		}
	}
	return false
}

// ActorRef is the part of an Actor recorded in history.
type ActorRef struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
}

// Ref returns the history reference of the actor.
func (a Actor) Ref() ActorRef { return ActorRef{ID: a.ID, Role: a.Role} }

// DefaultTimeZone is used when a branch is created without a time zone.
const DefaultTimeZone = "Asia/Bangkok"

// DefaultSlotMinutes is the default booking grid.
const DefaultSlotMinutes = 15

// Branch is one site of the chain.
type Branch struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	TimeZone    string `json:"timeZone"`
	SlotMinutes int    `json:"slotMinutes"`
	// Address is the postal address patients are sent in confirmations and
	// reminders; optional.
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// DayHours is one weekday's opening interval in branch local time, "HH:MM".
// Day is one of mon tue wed thu fri sat sun.
type DayHours struct {
	Day   string `json:"day"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Closure closes a branch for a whole local date (YYYY-MM-DD).
type Closure struct {
	Date   string `json:"date"`
	Reason string `json:"reason,omitempty"`
}

// Hours are a branch's opening hours. A weekday absent from Weekly is closed.
type Hours struct {
	Weekly   []DayHours `json:"weekly"`
	Closures []Closure  `json:"closures"`
}

// Resource types seen in practice; others are accepted if they are snake_case.
const (
	ResourceCollectionStation = "collection_station"
	ResourceRoom              = "room"
	ResourceNurse             = "nurse"
	ResourceDoctor            = "doctor"
	ResourceEquipment         = "equipment"
)

// Resource is something a visit occupies: a collection station, a room, staff.
type Resource struct {
	ID       string `json:"id"`
	BranchID string `json:"branchId"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Active   bool   `json:"active"`
	// Hours, when non-empty, are the resource's own weekly hours; each day must lie
	// inside the branch's hours for that day to be usable. Empty: the branch's hours.
	Hours     []DayHours `json:"hours,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
}

// Requirement says a service needs Count resources of Type for its whole duration.
type Requirement struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// Preparation is what a patient must do before the visit (fasting, instructions
// per locale such as "th" and "en").
type Preparation struct {
	FastingHours int               `json:"fastingHours"`
	Instructions map[string]string `json:"instructions,omitempty"`
}

// Service is what a patient books: a blood draw, a check-up package.
type Service struct {
	ID                  string        `json:"id"`
	BranchID            string        `json:"branchId"`
	Name                string        `json:"name"`
	DurationMinutes     int           `json:"durationMinutes"`
	Requires            []Requirement `json:"requires"`
	Preparation         Preparation   `json:"preparation"`
	MinNoticeMinutes    int           `json:"minNoticeMinutes"`
	MaxAdvanceDays      int           `json:"maxAdvanceDays"`
	CancelCutoffMinutes int           `json:"cancelCutoffMinutes"`
	CreatedAt           time.Time     `json:"createdAt"`
}

// Catalog is everything about a branch that scheduling needs, loaded at once.
type Catalog struct {
	Branch    Branch
	Hours     Hours
	Resources []Resource
	Services  []Service
	// Version changes with every write to the catalog (0 for a catalog
	// written before versions existed), so that a booking planned on a cached
	// catalog can require, in its own transaction, that it is still current.
	Version int64
}

// Patient is the person a visit is for. Contact fields are personal data.
type Patient struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Phone  string `json:"phone,omitempty"`
	Email  string `json:"email,omitempty"`
	Locale string `json:"locale,omitempty"`
}

// Status is an appointment's lifecycle state.
type Status string

// Lifecycle: booked → checked_in → completed; booked → cancelled | no_show.
const (
	StatusBooked    Status = "booked"
	StatusCheckedIn Status = "checked_in"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
	StatusNoShow    Status = "no_show"
)

// Cell is one grid cell of one resource held by an appointment. Cells are the
// unit of the no-overbooking guarantee: at most one appointment holds a cell.
type Cell struct {
	ResourceID string    // resource held
	Start      time.Time // cell start instant
	Date       string    // branch-local date of the cell, YYYY-MM-DD (the storage partition)
}

// Appointment is a booked visit. Start and End carry the branch's UTC offset.
type Appointment struct {
	ID          string      `json:"id"`
	Status      Status      `json:"status"`
	BranchID    string      `json:"branchId"`
	ServiceID   string      `json:"serviceId"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end"`
	Patient     Patient     `json:"patient"`
	Notes       string      `json:"notes,omitempty"`
	Resources   []string    `json:"resources"`
	Preparation Preparation `json:"preparation"`
	Version     int         `json:"version"`
	CreatedAt   time.Time   `json:"createdAt"`
	UpdatedAt   time.Time   `json:"updatedAt"`
	// LabOrders are the LIS lab orders linked to the visit, with their samples'
	// statuses (see ApplySampleEvent), in the order they were linked.
	LabOrders []LabOrder `json:"labOrders,omitempty"`
	// Billing holds one record per POS order of the visit (see
	// ApplyOrderEvent), in the order they arrived.
	Billing []Billing `json:"billing,omitempty"`
	// Cells are the grid cells this appointment holds (none once cancelled or no-show).
	Cells []Cell `json:"-"`
}

// HistoryEntry is one change of an appointment. From is empty for the booking.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	From   Status    `json:"from"`
	To     Status    `json:"to"`
	Actor  ActorRef  `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	// Start and End record the times after the change (useful for reschedules).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Slot is one bookable start in an availability answer.
type Slot struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Available int       `json:"available"`
}

// CellKey identifies a cell in an Occupancy.
type CellKey struct {
	ResourceID string
	Start      int64 // Unix seconds of the cell start
}

// Occupancy maps taken cells to the appointment holding them.
type Occupancy map[CellKey]string
