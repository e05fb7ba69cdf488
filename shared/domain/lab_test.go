package domain

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

var ictZone = time.FixedZone("ICT", 7*3600)

// at returns 2026-12-01 08:00 Bangkok time plus m minutes.
func labAt(m int) time.Time { return time.Date(2026, 12, 1, 8, m, 0, 0, ictZone) }

func sev(id, sample string, st SampleStatus, min int, seq int64) SampleEvent {
	return SampleEvent{EventID: id, OccurredAt: labAt(min), LabOrderID: "lo-1", SampleID: sample, Status: st, Sequence: seq}
}

func linked(samples ...Sample) LabOrder {
	o := LabOrder{ID: "lo-1", AppointmentID: "apt-1", Samples: samples}
	for _, s := range samples {
		o.RecollectionNeeded = o.RecollectionNeeded || s.Status.NeedsRecollection()
	}
	return o
}

func smp(id string, st SampleStatus, min int, seq int64) Sample {
	return Sample{ID: id, Status: st, UpdatedAt: labAt(min), Sequence: seq}
}

func TestSampleStatusOrder(t *testing.T) {
	all := SampleStatuses()
	for i := 0; i+1 < 4; i++ {
		if all[i].rank() >= all[i+1].rank() {
			t.Errorf("%s should come before %s", all[i], all[i+1])
		}
	}
	for _, s := range all {
		want := s == SampleRejected || s == SampleRecollectRequired
		if s.Terminal() != want || s.NeedsRecollection() != want || !s.Valid() {
			t.Errorf("%s: Terminal=%v NeedsRecollection=%v Valid=%v", s, s.Terminal(), s.NeedsRecollection(), s.Valid())
		}
	}
	if SampleStatus("lost").Valid() || SampleStatus("").Valid() {
		t.Error("unknown statuses must not be valid")
	}
}

func TestApplySampleEvent(t *testing.T) {
	withApt := func(e SampleEvent, apt string) SampleEvent { e.AppointmentID = apt; return e }
	withReason := func(e SampleEvent, r string) SampleEvent { e.Reason = r; return e }
	tests := []struct {
		name        string
		order       LabOrder
		ev          SampleEvent
		wantSamples []Sample // nil: order unchanged
		wantChanged bool
		wantEffect  LabEffect
		wantCode    apperr.Code
		wantErr     error
	}{
		{
			name:        "first event with both ids links and completes the appointment",
			order:       LabOrder{},
			ev:          withApt(sev("e1", "s-1", SampleCollected, 0, 1), "apt-1"),
			wantSamples: []Sample{smp("s-1", SampleCollected, 0, 1)},
			wantChanged: true,
			wantEffect:  LabEffect{Linked: true, SampleID: "s-1", To: SampleCollected, CompleteAppointment: true},
		},
		{
			name:        "first event may be a later status (collected was lost or is late)",
			order:       LabOrder{},
			ev:          withApt(sev("e1", "s-1", SampleReceived, 5, 2), "apt-1"),
			wantSamples: []Sample{smp("s-1", SampleReceived, 5, 2)},
			wantChanged: true,
			wantEffect:  LabEffect{Linked: true, SampleID: "s-1", To: SampleReceived, CompleteAppointment: true},
		},
		{
			name:     "unlinked order without appointmentId is retried",
			order:    LabOrder{},
			ev:       sev("e1", "s-1", SampleCollected, 0, 1),
			wantCode: apperr.NotFound,
			wantErr:  ErrLabOrderNotLinked,
		},
		{
			name:        "later events may omit appointmentId",
			order:       linked(smp("s-1", SampleCollected, 0, 1)),
			ev:          sev("e2", "s-1", SampleReceived, 10, 2),
			wantSamples: []Sample{smp("s-1", SampleReceived, 10, 2)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleCollected, To: SampleReceived},
		},
		{
			name:     "another appointment contradicts the link",
			order:    linked(smp("s-1", SampleCollected, 0, 1)),
			ev:       withApt(sev("e2", "s-1", SampleReceived, 10, 2), "apt-2"),
			wantCode: apperr.Validation,
			wantErr:  ErrContradiction,
		},
		{
			name:        "the same appointment again is fine",
			order:       linked(smp("s-1", SampleCollected, 0, 1)),
			ev:          withApt(sev("e2", "s-1", SampleReceived, 10, 2), "apt-1"),
			wantSamples: []Sample{smp("s-1", SampleReceived, 10, 2)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleCollected, To: SampleReceived},
		},
		{
			name:  "stale event (lower status, lower sequence) is acknowledged, nothing changes",
			order: linked(smp("s-1", SampleInProgress, 20, 3)),
			ev:    sev("e2", "s-1", SampleReceived, 10, 2),
		},
		{
			name:  "duplicate event changes nothing",
			order: linked(smp("s-1", SampleInProgress, 20, 3)),
			ev:    sev("e3", "s-1", SampleInProgress, 20, 3),
		},
		{
			name:  "a higher sequence never moves the status backwards",
			order: linked(smp("s-1", SampleResulted, 30, 4)),
			ev:    sev("e5", "s-1", SampleInProgress, 40, 5),
		},
		{
			name:        "a forward status wins even with a lower sequence",
			order:       linked(smp("s-1", SampleInProgress, 20, 5)),
			ev:          sev("e4", "s-1", SampleResulted, 30, 4),
			wantSamples: []Sample{smp("s-1", SampleResulted, 30, 4)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleInProgress, To: SampleResulted, ResultsReady: true},
		},
		{
			name:        "same status with a higher sequence updates the details",
			order:       linked(smp("s-1", SampleInProgress, 20, 3)),
			ev:          withReason(sev("e4", "s-1", SampleInProgress, 15, 4), "re-run on analyser 2"),
			wantSamples: []Sample{{ID: "s-1", Status: SampleInProgress, UpdatedAt: labAt(15), Sequence: 4, Reason: "re-run on analyser 2"}},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleInProgress, To: SampleInProgress},
		},
		{
			name:  "same status, lower sequence is stale even if later in time",
			order: linked(smp("s-1", SampleInProgress, 20, 3)),
			ev:    sev("e2", "s-1", SampleInProgress, 25, 2),
		},
		{
			name:        "without sequences, occurredAt orders equal statuses",
			order:       linked(smp("s-1", SampleReceived, 10, 0)),
			ev:          sev("e3", "s-1", SampleReceived, 12, 0),
			wantSamples: []Sample{smp("s-1", SampleReceived, 12, 0)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleReceived, To: SampleReceived},
		},
		{
			name:        "rejected ends the sample and flags recollection",
			order:       linked(smp("s-1", SampleReceived, 10, 2)),
			ev:          withReason(sev("e3", "s-1", SampleRejected, 15, 3), "haemolysed"),
			wantSamples: []Sample{{ID: "s-1", Status: SampleRejected, UpdatedAt: labAt(15), Sequence: 3, Reason: "haemolysed"}},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleReceived, To: SampleRejected, RecollectionNeeded: true},
		},
		{
			name:  "nothing leaves a terminal status",
			order: linked(smp("s-1", SampleRejected, 15, 3)),
			ev:    sev("e4", "s-1", SampleResulted, 60, 4),
		},
		{
			name:        "recollect_required may follow resulted",
			order:       linked(smp("s-1", SampleResulted, 30, 4)),
			ev:          sev("e5", "s-1", SampleRecollectRequired, 90, 5),
			wantSamples: []Sample{smp("s-1", SampleRecollectRequired, 90, 5)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleResulted, To: SampleRecollectRequired, RecollectionNeeded: true},
		},
		{
			name:        "between the terminal statuses the newer wins, without a second notification",
			order:       linked(smp("s-1", SampleRejected, 15, 3)),
			ev:          sev("e4", "s-1", SampleRecollectRequired, 16, 4),
			wantSamples: []Sample{smp("s-1", SampleRecollectRequired, 16, 4)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleRejected, To: SampleRecollectRequired, RecollectionNeeded: true},
		},
		{
			name:        "a second sample does not complete the appointment again",
			order:       linked(smp("s-1", SampleCollected, 0, 1)),
			ev:          sev("e2", "s-2", SampleCollected, 1, 1),
			wantSamples: []Sample{smp("s-1", SampleCollected, 0, 1), smp("s-2", SampleCollected, 1, 1)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-2", To: SampleCollected},
		},
		{
			name:        "samples stay sorted by id",
			order:       linked(smp("s-2", SampleCollected, 0, 1)),
			ev:          sev("e2", "s-1", SampleCollected, 1, 1),
			wantSamples: []Sample{smp("s-1", SampleCollected, 1, 1), smp("s-2", SampleCollected, 0, 1)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", To: SampleCollected},
		},
		{
			name:        "results are ready only when every sample is resulted",
			order:       linked(smp("s-1", SampleResulted, 30, 4), smp("s-2", SampleInProgress, 20, 3)),
			ev:          sev("e9", "s-1", SampleResulted, 31, 5),
			wantSamples: []Sample{smp("s-1", SampleResulted, 31, 5), smp("s-2", SampleInProgress, 20, 3)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-1", From: SampleResulted, To: SampleResulted},
		},
		{
			name:        "the last sample resulted makes results ready",
			order:       linked(smp("s-1", SampleResulted, 30, 4), smp("s-2", SampleInProgress, 20, 3)),
			ev:          sev("e9", "s-2", SampleResulted, 40, 4),
			wantSamples: []Sample{smp("s-1", SampleResulted, 30, 4), smp("s-2", SampleResulted, 40, 4)},
			wantChanged: true,
			wantEffect:  LabEffect{SampleID: "s-2", From: SampleInProgress, To: SampleResulted, ResultsReady: true},
		},
		{name: "unknown status", order: linked(), ev: sev("e1", "s-1", "lost", 0, 1), wantCode: apperr.Validation},
		{name: "missing event id", order: linked(), ev: sev("", "s-1", SampleCollected, 0, 1), wantCode: apperr.Validation},
		{name: "missing sample id", order: linked(), ev: sev("e1", "", SampleCollected, 0, 1), wantCode: apperr.Validation},
		{name: "negative sequence", order: linked(), ev: sev("e1", "s-1", SampleCollected, 0, -1), wantCode: apperr.Validation},
		{
			name:     "event for another lab order",
			order:    linked(),
			ev:       SampleEvent{EventID: "e1", OccurredAt: labAt(0), LabOrderID: "lo-2", SampleID: "s-1", Status: SampleCollected},
			wantCode: apperr.Validation,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, eff, err := ApplySampleEvent(tt.order, tt.ev)
			if tt.wantCode != "" {
				if apperr.CodeOf(err) != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want it to wrap %v", err, tt.wantErr)
				}
				if !reflect.DeepEqual(got, tt.order) || changed || eff != (LabEffect{}) {
					t.Fatalf("an error must leave the order unchanged: %+v %v %+v", got, changed, eff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged || eff != tt.wantEffect {
				t.Fatalf("changed=%v effect=%+v, want %v %+v", changed, eff, tt.wantChanged, tt.wantEffect)
			}
			want := tt.order
			if tt.wantSamples != nil {
				want = linked(tt.wantSamples...)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("order = %+v\nwant    %+v", got, want)
			}
		})
	}
}

// TestApplySampleEventAnyOrder delivers an LIS history in many orders, with
// duplicates, redelivering the events refused while the order was not linked
// (as SQS does): the final state is always the same, and the appointment is
// completed exactly once.
func TestApplySampleEventAnyOrder(t *testing.T) {
	histories := map[string][]SampleEvent{
		"with sequences": {
			{EventID: "e1", OccurredAt: labAt(0), AppointmentID: "apt-1", LabOrderID: "lo-1", SampleID: "tube-edta", Status: SampleCollected, Sequence: 1},
			{EventID: "e2", OccurredAt: labAt(1), AppointmentID: "apt-1", LabOrderID: "lo-1", SampleID: "tube-sst", Status: SampleCollected, Sequence: 1},
			{EventID: "e3", OccurredAt: labAt(30), LabOrderID: "lo-1", SampleID: "tube-edta", Status: SampleReceived, Sequence: 2},
			{EventID: "e4", OccurredAt: labAt(31), LabOrderID: "lo-1", SampleID: "tube-sst", Status: SampleReceived, Sequence: 2},
			{EventID: "e5", OccurredAt: labAt(45), LabOrderID: "lo-1", SampleID: "tube-edta", Status: SampleInProgress, Sequence: 3},
			{EventID: "e6", OccurredAt: labAt(50), LabOrderID: "lo-1", SampleID: "tube-sst", Status: SampleRejected, Sequence: 3, Reason: "haemolysed"},
			{EventID: "e7", OccurredAt: labAt(55), LabOrderID: "lo-1", SampleID: "tube-sst", Status: SampleRecollectRequired, Sequence: 4, Reason: "haemolysed"},
			{EventID: "e8", OccurredAt: labAt(90), LabOrderID: "lo-1", SampleID: "tube-edta", Status: SampleResulted, Sequence: 4},
		},
		"without sequences": {
			{EventID: "e1", OccurredAt: labAt(0), AppointmentID: "apt-1", LabOrderID: "lo-1", SampleID: "s1", Status: SampleCollected},
			{EventID: "e2", OccurredAt: labAt(30), LabOrderID: "lo-1", SampleID: "s1", Status: SampleReceived},
			{EventID: "e3", OccurredAt: labAt(45), LabOrderID: "lo-1", SampleID: "s1", Status: SampleInProgress},
			{EventID: "e4", OccurredAt: labAt(46), LabOrderID: "lo-1", SampleID: "s1", Status: SampleInProgress, Reason: "re-run"},
			{EventID: "e5", OccurredAt: labAt(90), LabOrderID: "lo-1", SampleID: "s1", Status: SampleResulted},
		},
	}
	for name, events := range histories {
		t.Run(name, func(t *testing.T) {
			var want LabOrder
			rng := rand.New(rand.NewPCG(1, 2))
			for round := 0; round < 300; round++ {
				queue := append(append([]SampleEvent(nil), events...), events[rng.IntN(len(events))], events[rng.IntN(len(events))])
				if round > 0 {
					rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
				}
				var o LabOrder
				completions := 0
				for len(queue) > 0 {
					ev := queue[0]
					queue = queue[1:]
					n, _, eff, err := ApplySampleEvent(o, ev)
					if errors.Is(err, ErrLabOrderNotLinked) {
						queue = append(queue, ev) // redelivered later
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if eff.CompleteAppointment {
						completions++
					}
					o = n
				}
				if completions != 1 {
					t.Fatalf("round %d: appointment completed %d times", round, completions)
				}
				if round == 0 {
					want = o
					continue
				}
				if !reflect.DeepEqual(o, want) {
					t.Fatalf("round %d: final order\n%+v\nwant (in-order delivery)\n%+v", round, o, want)
				}
			}
			t.Logf("final: %+v", want)
		})
	}
}

func TestCompletionSteps(t *testing.T) {
	tests := map[Status][]Status{
		StatusBooked:    {StatusCheckedIn, StatusCompleted},
		StatusCheckedIn: {StatusCompleted},
		StatusCompleted: nil,
		StatusCancelled: nil,
		StatusNoShow:    nil,
	}
	for from, want := range tests {
		got := CompletionSteps(from)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", from, got, want)
		}
		prev := from
		for _, s := range got {
			if !CanTransition(prev, s) {
				t.Errorf("%s → %s is not a lifecycle transition", prev, s)
			}
			prev = s
		}
	}
}
