package dynamo

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/notice"
)

func hasToken(p notice.Profile, token string) bool {
	for _, d := range p.Devices {
		if d.Token == token {
			return true
		}
	}
	return false
}

// TestDeviceTokenBelongsToOnePatient: a phone handed from patient A to
// patient B (same push token) stops receiving A's pushes. The notification
// consumer pushes to GetProfile's devices (notify/dispatch.go), so A's
// profile must no longer list the token once B registers it.
func TestDeviceTokenBelongsToOnePatient(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	const token = "shared-phone-token-abcdefghijklmnop"
	if created, err := s.PutDevice(ctx, "pat_a", notice.Device{Token: token, Platform: "fcm", RegisteredAt: t0}); err != nil || !created {
		t.Fatalf("A registers: %v %v", created, err)
	}
	if created, err := s.PutDevice(ctx, "pat_b", notice.Device{Token: token, Platform: "fcm", RegisteredAt: t0.Add(time.Minute)}); err != nil || !created {
		t.Fatalf("B registers: %v %v", created, err)
	}
	a, err := s.GetProfile(ctx, "pat_a")
	if err != nil {
		t.Fatal(err)
	}
	if hasToken(a, token) {
		t.Fatalf("A still lists the token B registered, so A's pushes would reach B's phone: %+v", a.Devices)
	}
	b, _ := s.GetProfile(ctx, "pat_b")
	if !hasToken(b, token) {
		t.Fatalf("B lost the token: %+v", b.Devices)
	}
	// A removing the token it no longer owns does not take it from B.
	if err := s.RemoveDevice(ctx, "pat_a", token); err != nil {
		t.Fatal(err)
	}
	if b, _ = s.GetProfile(ctx, "pat_b"); !hasToken(b, token) {
		t.Fatalf("A's remove took the token from B: %+v", b.Devices)
	}
	// Back to A: B loses it.
	if created, err := s.PutDevice(ctx, "pat_a", notice.Device{Token: token, Platform: "fcm", RegisteredAt: t0.Add(2 * time.Minute)}); err != nil || !created {
		t.Fatalf("A registers again: %v %v", created, err)
	}
	if b, _ = s.GetProfile(ctx, "pat_b"); hasToken(b, token) {
		t.Fatalf("B kept the token A took back: %+v", b.Devices)
	}
}

// TestDeviceTokenRaceHasOneOwner: many patients registering the same token
// at once leave it with exactly one of them.
func TestDeviceTokenRaceHasOneOwner(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	const token = "raced-phone-token-abcdefghijklmnop"
	patients := []string{"pat_r1", "pat_r2", "pat_r3", "pat_r4", "pat_r5", "pat_r6"}
	var wg sync.WaitGroup
	errs := make(chan error, len(patients))
	for _, p := range patients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.PutDevice(ctx, p, notice.Device{Token: token, Platform: "apns", RegisteredAt: t0})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	owners := 0
	for _, p := range patients {
		prof, err := s.GetProfile(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if hasToken(prof, token) {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d patients list the token, want exactly 1", owners)
	}
}
