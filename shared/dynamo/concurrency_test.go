package dynamo

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
)

// TestConcurrentBookingsOfOneCellSet races 50 bookings of the same cells:
// exactly one wins, every other gets SLOT_UNAVAILABLE, and the table holds
// exactly one appointment with its cells.
func TestConcurrentBookingsOfOneCellSet(t *testing.T) {
	s, raw := newStore(t)
	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := appt(fmt.Sprintf("apt_%02d", i), "br_1", fmt.Sprintf("pat_%02d", i), at(1, 9, 0), 4, "res_a", "res_b")
			<-start
			errs[i] = s.CreateAppointment(context.Background(), a, booking(a), booked(a))
		}()
	}
	close(start)
	wg.Wait()

	codes := map[apperr.Code]int{}
	for _, err := range errs {
		if err != nil && apperr.CodeOf(err) != apperr.SlotUnavailable {
			t.Errorf("unexpected error: %v", err)
		}
		codes[apperr.CodeOf(err)]++
	}
	if codes[""] != 1 || codes[apperr.SlotUnavailable] != n-1 {
		t.Fatalf("outcomes %v, want 1 success and %d SLOT_UNAVAILABLE", codes, n-1)
	}
	sameJSON(t, "items", countEntities(t, raw, s.Table()), map[string]int{
		entityAppointment: 1, entityHistory: 1, entityCell: 8, entityOutbox: 1, entityVisits: 1,
	})
	winner := ""
	for i, err := range errs {
		if err == nil {
			winner = fmt.Sprintf("apt_%02d", i)
		}
	}
	for k, v := range occupancyOf(t, s, "br_1", "2026-12-01") {
		if v != winner {
			t.Fatalf("cell %s held by %s, winner %s", k, v, winner)
		}
	}
}
