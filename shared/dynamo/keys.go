package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/domain"
)

// Key design. One table (template.yaml's BookingTable) holds every item type;
// PK/SK is the primary key, GSI1 and GSI2 are generic overloaded indexes.
//
//	item              PK                         SK                             GSI1PK / GSI1SK                       GSI2PK / GSI2SK
//	branch            BRANCH#<id>                #META                          BRANCHES / <lower(name)>#<id>
//	opening hours     BRANCH#<id>                #HOURS
//	resource          BRANCH#<branchId>          RES#<id>
//	service           BRANCH#<branchId>          SVC#<id>
//	cell              CELLS#<branchId>#<date>    <resourceId>#<unix s, 12 digits> BRCELLS#<branchId> / <date>#<resourceId>#<unix s, 12 digits>
//	appointment       APPT#<id>                  #META                          BRDAY#<branchId>#<date> / <start>#<id> PATIENT#<patientId> / <start>#<id>
//	history entry     APPT#<id>                  HIST#<at>#<version, 6 digits>
//	idempotency rec.  IDEM#<key>                 #IDEM                                                                EXPIRY#<ttl date> / <ttl>#<PK>
//	outbox record     OUTBOX#<eventId>           #EVENT                         OUTBOX#PENDING / <createdAt>#<eventId> (while PENDING)
//	                                                                                                                  EXPIRY#<ttl date> / <ttl>#<PK> (once PUBLISHED)
//	reminder key      APPT#<id>                  REMINDER#<lead min>#<start unix s>
//	patient's visits  PATVISITS#<patientId>      #VISITS
//	patient profile   PROFILE#<patientId>        #PROFILE
//	job watermark     JOB#<name>                 #WATERMARK
//
// <date> is the branch-local date YYYY-MM-DD; <start> is the appointment start
// in UTC, "2006-01-02T15:04:05Z"; <at> is UTC with fixed nine fraction digits,
// so that the strings sort in time order; <createdAt> is the event time in
// the same fixed-width UTC layout.
//
// A branch's catalog (branch, hours, resources, services) shares one partition
// so LoadCatalog is a single Query. A cell item exists while an appointment
// holds that cell: it is taken with attribute_not_exists(PK) inside the
// booking transaction, which is what makes overbooking impossible; all cells
// of a branch-day share one partition so Occupancy (the strongly consistent
// read that booking decisions use) is one Query per day. Cells
// carry ttl = start + 7 days: past cells are useless, and correctness never
// depends on their deletion.
//
// Cells also sit in GSI1 under BRCELLS#<branchId>, sorted by date, so the
// cells of any date range of a branch are one Query (OccupancyRange, for
// availability answers: eventually consistent, which is fine there because
// the booking transaction refuses a cell taken meanwhile). Cell items written
// before this index key existed (no GSI1PK) are not in the range; they are
// future cells of at most MaxAdvanceDays, and IndexCells adds the keys to
// them (run once per branch after deploying; idempotent).
//
// An outbox record is written in the same transaction as the appointment
// change it reports (see outbox.go): its entity attribute is "outbox" (the
// publisher's stream filter depends on it) and it holds the CloudEvent JSON.
// While PENDING it sits in GSI1 under OUTBOX#PENDING, oldest first, where the
// sweep finds records the stream publisher missed; MarkPublished removes the
// GSI1 keys (a sparse index: published records cost nothing there) and sets
// ttl = publishedAt + 7 days.
//
// Expiry index. Items that carry a ttl and whose deletion matters (the
// idempotency and consumer dedupe records, published outbox records) also
// sit in GSI2 under EXPIRY#<date of ttl, UTC, YYYY-MM-DD> with sort key
// <ttl, unix s, 12 digits>#<PK>, written by every writer that sets their ttl.
// DynamoDB's TTL deletion may lag by days; the cleanup job (shared/jobs)
// instead queries the day buckets up to today for sort keys below now and
// deletes each item on condition ttl < now, so an item refreshed meanwhile
// survives, with no Scan. GSI2 otherwise holds only PATIENT# partitions, so
// the two uses never meet. Cells keep their ttl without an expiry entry:
// nothing depends on their deletion. Items written before the index existed
// are left to DynamoDB's TTL.
//
// A reminder key item records that the reminders job has recorded the
// appointment.reminder_due event of one reminder (lead time) of one start of
// an appointment: it is put with attribute_not_exists(PK) in the transaction
// that writes that event's outbox record, so each (appointment, lead, start)
// gets exactly one event however often or concurrently the job runs, and a
// rescheduled visit (another start) gets its reminders again. It carries ttl
// = start + 7 days: the job never looks at a visit that has started.
//
// A patient's visits item holds the set of the patient's booked or checked-in
// visits with their starts, written in the transaction of every change that
// adds, ends or moves one; the cap on a patient's upcoming visits is a
// condition on it in the booking transaction (patient_visits.go). Visits
// booked before it existed are added by IndexPatientVisits (run once per
// branch after deploying; idempotent).
//
// A job watermark holds, in attribute "until" (UTC, the fixed-width layout of
// <at>), how far a scheduled job has handled its work; it only moves forward
// (a conditional update), so two concurrent runs never move it back.
//
// Entities are stored by the mapping functions of items_*.go, with their own
// attribute names and a stored format version (attribute fv, see item.go),
// plus the key attributes and the internal attributes below.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	attrTTL    = "ttl" // epoch seconds (template.yaml TimeToLiveSpecification)
	// attrEntity names the item type (entity* constants) for humans and stream
	// consumers; no query depends on it.
	attrEntity = "entity"
	// attrCells holds an appointment's cells: a list of {resourceId, start (unix
	// s), date}. Needed to release them on reschedule or cancellation.
	attrCells = "cells"
	// attrLocalDate is the branch-local date of an appointment's start.
	attrLocalDate = "localDate"
	// attrAppointmentID is the holder of a cell.
	attrAppointmentID = "appointmentId"

	// GSI names as in template.yaml.
	indexGSI1 = "GSI1"
	indexGSI2 = "GSI2"
)

// Entity names stored in attrEntity.
const (
	entityBranch      = "BRANCH"
	entityHours       = "HOURS"
	entityResource    = "RESOURCE"
	entityService     = "SERVICE"
	entityCell        = "CELL"
	entityAppointment = "APPOINTMENT"
	entityHistory     = "HISTORY"
	entityIdempotency = "IDEMPOTENCY"
	// entityOutbox is lower-case: the BatchPublisherFunction's stream filter
	// in template.yaml matches NewImage.entity.S = "outbox".
	entityOutbox = "outbox"
	// entityReminder is a reminder key item, entityJob a job watermark.
	entityReminder = "REMINDER"
	entityJob      = "JOB"
	// entityPatient is a patient profile (items_patient.go, patients.go).
	entityPatient = "PATIENT"
)

const (
	skMeta        = "#META"
	skHours       = "#HOURS"
	skIdem        = "#IDEM"
	skEvent       = "#EVENT"
	skWatermark   = "#WATERMARK"
	skProfile     = "#PROFILE"
	gsi1Pending   = "OUTBOX#PENDING"
	gsi1Parked    = "OUTBOX#PARKED"
	prefixRes     = "RES#"
	prefixSvc     = "SVC#"
	prefixHist    = "HIST#"
	gsi1Branches  = "BRANCHES"
	dateLayout    = "2006-01-02"
	startLayout   = "2006-01-02T15:04:05Z"           // UTC, second precision
	historyLayout = "2006-01-02T15:04:05.000000000Z" // UTC, fixed width
	// cellTTL is how long a cell item is kept after its start.
	cellTTL = 7 * 24 * time.Hour
)

// profilePK is the partition of a patient profile (patientPK, PATIENT#<id>,
// is GSI2's partition of the patient's appointments).
func profilePK(id string) string { return "PROFILE#" + id }

func branchPK(id string) string   { return "BRANCH#" + id }
func resourceSK(id string) string { return prefixRes + id }
func serviceSK(id string) string  { return prefixSvc + id }
func branchGSI1SK(b domain.Branch) string {
	return strings.ToLower(b.Name) + "#" + b.ID
}

func cellsPK(branchID, date string) string { return "CELLS#" + branchID + "#" + date }

func cellSK(resourceID string, start time.Time) string {
	return fmt.Sprintf("%s#%012d", resourceID, start.Unix())
}

// parseCellSK splits a cell sort key into resource id and unix seconds.
func parseCellSK(sk string) (domain.CellKey, bool) {
	i := strings.LastIndexByte(sk, '#')
	if i <= 0 {
		return domain.CellKey{}, false
	}
	n, err := strconv.ParseInt(sk[i+1:], 10, 64)
	if err != nil {
		return domain.CellKey{}, false
	}
	return domain.CellKey{ResourceID: sk[:i], Start: n}, true
}

// branchCellsGSI1PK is the GSI1 partition of all cells of a branch.
func branchCellsGSI1PK(branchID string) string { return "BRCELLS#" + branchID }

// cellGSI1SK sorts a branch's cells by local date, then resource and start.
func cellGSI1SK(date, resourceID string, start time.Time) string {
	return date + "#" + cellSK(resourceID, start)
}

// cellRangeEnd is the upper bound of the cell index keys of dates up to and
// including date: '$' sorts right after the '#' that follows the date.
func cellRangeEnd(date string) string { return date + "$" }

// parseCellGSI1SK splits a cell index sort key into resource id and unix seconds.
func parseCellGSI1SK(sk string) (domain.CellKey, bool) {
	i := strings.IndexByte(sk, '#')
	if i <= 0 {
		return domain.CellKey{}, false
	}
	return parseCellSK(sk[i+1:])
}

func apptPK(id string) string { return "APPT#" + id }

// apptLocalDate is the branch-local date of an appointment: Start carries the
// branch's UTC offset, so its own calendar date is the local date.
func apptLocalDate(a domain.Appointment) string { return a.Start.Format(dateLayout) }

func branchDayPK(branchID, date string) string { return "BRDAY#" + branchID + "#" + date }
func patientPK(patientID string) string        { return "PATIENT#" + patientID }
func apptStartSK(a domain.Appointment) string {
	return a.Start.UTC().Format(startLayout) + "#" + a.ID
}

func historySK(h domain.HistoryEntry, version int) string {
	return fmt.Sprintf("%s%s#%06d", prefixHist, h.At.UTC().Format(historyLayout), version)
}

func idemPK(key string) string { return "IDEM#" + key }

func outboxPK(eventID string) string { return "OUTBOX#" + eventID }

// outboxGSI1SK sorts pending records by the time they are due (creation,
// or the retry after a failure), then id; parked ones by when they were
// parked.
func outboxGSI1SK(createdAt time.Time, eventID string) string {
	return createdAt.UTC().Format(historyLayout) + "#" + eventID
}

// reminderSK is the sort key of a reminder key item (in the appointment's
// partition).
func reminderSK(leadMinutes int, start time.Time) string {
	return fmt.Sprintf("REMINDER#%d#%d", leadMinutes, start.Unix())
}

func jobPK(name string) string { return "JOB#" + name }

// maxGSISortKeyBytes is DynamoDB's limit on a sort key, also in an index.
const maxGSISortKeyBytes = 1024

// expiryGSI2PK is the expiry index bucket of a ttl: its UTC date.
func expiryGSI2PK(ttl time.Time) string { return "EXPIRY#" + ttl.UTC().Format(dateLayout) }

// expiryGSI2SK sorts the items of a bucket by ttl; "<ttl>#" sorts before
// every key of a later second, so SK < expiryCut(now) selects ttl < now.
func expiryGSI2SK(ttl time.Time, pk string) string { return expiryCut(ttl) + "#" + pk }

// expiryCut is the sort key bound of the items whose ttl is before t.
func expiryCut(t time.Time) string { return fmt.Sprintf("%012d", t.Unix()) }

// expiryKeys returns the expiry index attributes of an item with primary
// key pk and the given ttl; none (nil) when the sort key would exceed
// DynamoDB's limit (never for the keys written today; such an item is left
// to DynamoDB's TTL).
func expiryKeys(pk string, ttl time.Time) map[string]types.AttributeValue {
	sk := expiryGSI2SK(ttl, pk)
	if len(sk) > maxGSISortKeyBytes {
		return nil
	}
	return map[string]types.AttributeValue{attrGSI2PK: avS(expiryGSI2PK(ttl)), attrGSI2SK: avS(sk)}
}
