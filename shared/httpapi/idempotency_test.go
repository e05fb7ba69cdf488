package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

func TestIdempotentReplay(t *testing.T) {
	h := newHarness()
	first := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	if first.StatusCode != 201 {
		t.Fatalf("first call: %d %s", first.StatusCode, first.Body)
	}
	if first.Headers[HeaderIdempotentReplayed] != "" {
		t.Error("the first answer must not be marked replayed")
	}
	// The same request again, reformatted: whitespace and member order differ.
	again := bookEvent(t)
	again.Body = `{ "notes": "fasting", "patient": {"locale":"th","email":"somchai@example.com","phone":"+66812345678","name":"Somchai P.","id":"pat_01hq3k5v8xw2"},
	  "start": "2025-03-10T09:00:00+07:00", "serviceId": "svc_blood", "branchId": "br_01" }`
	for i := 0; i < 2; i++ {
		resp := h.serve(t, BookAppointment(h.svc), again)
		if resp.StatusCode != 201 || resp.Body != first.Body {
			t.Fatalf("replay %d = %d %s, want 201 and the first body byte for byte", i, resp.StatusCode, resp.Body)
		}
		if resp.Headers[HeaderIdempotentReplayed] != "true" {
			t.Errorf("replay %d lacks %s: true", i, HeaderIdempotentReplayed)
		}
	}
	if n := h.svc.count("Book"); n != 1 {
		t.Errorf("Book ran %d times, want 1", n)
	}
	if h.idem.completes != 1 {
		t.Errorf("Complete called %d times, want 1", h.idem.completes)
	}
}

func TestIdempotencyRecordShape(t *testing.T) {
	h := newHarness()
	deadline := fixedNow.Add(9 * time.Second)
	ctx, cancel := context.WithDeadline(h.ctx(), deadline)
	defer cancel()
	ev := bookEvent(t)
	h.serveCtx(t, ctx, BookAppointment(h.svc), ev)

	if len(h.idem.begins) != 1 {
		t.Fatalf("Begin called %d times", len(h.idem.begins))
	}
	rec := h.idem.begins[0]
	wantKey := "patient#a1b2c3d4-5678-90ab-cdef-111111111111#BookAppointment#5f0c9a52-8d7e-4d8e-9a57-1f0f7f0e2b11"
	if rec.Key != wantKey {
		t.Errorf("key = %q, want %q", rec.Key, wantKey)
	}
	if rec.Hash != RequestHash("POST /v1/appointments", "/v1/appointments", []byte(ev.Body)) || len(rec.Hash) != 64 {
		t.Errorf("hash = %q", rec.Hash)
	}
	if rec.Status != idempotency.StatusInProgress || !rec.InProgressUntil.Equal(deadline) || !rec.ExpiresAt.Equal(fixedNow.Add(24*time.Hour)) {
		t.Errorf("record = %+v, want INPROGRESS until the Lambda deadline, expiring after the TTL", rec)
	}
	stored, _ := h.idem.record(wantKey)
	if stored.Status != idempotency.StatusCompleted || stored.StatusCode != 201 {
		t.Errorf("stored = %+v", stored)
	}

	// Without a deadline (outside Lambda) the claim lasts 30 s.
	h2 := newHarness()
	h2.serve(t, BookAppointment(h2.svc), bookEvent(t))
	if got := h2.idem.begins[0].InProgressUntil; !got.Equal(fixedNow.Add(30 * time.Second)) {
		t.Errorf("InProgressUntil without deadline = %v", got)
	}
}

func TestIdempotencyKeyReusedForADifferentRequest(t *testing.T) {
	h := newHarness()
	h.serve(t, BookAppointment(h.svc), bookEvent(t))
	other := bookEvent(t)
	other.Body = strings.Replace(other.Body, "09:00:00", "10:00:00", 1)
	expectError(t, h.serve(t, BookAppointment(h.svc), other), 422, "IDEMPOTENCY_KEY_REUSED")
	if n := h.svc.count("Book"); n != 1 {
		t.Errorf("Book ran %d times, want 1", n)
	}
}

func TestConcurrentDuplicateIsInProgress(t *testing.T) {
	h := newHarness()
	var inner events.APIGatewayV2HTTPResponse
	h.svc.book = func(ctx context.Context, _ domain.Actor, _ app.BookInput) (domain.Appointment, error) {
		// While the first request runs, its duplicate arrives.
		inner = h.serve(t, BookAppointment(h.svc), bookEvent(t))
		return fixtureAppointment("apt_1"), nil
	}
	first := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	if first.StatusCode != 201 {
		t.Fatalf("first: %d %s", first.StatusCode, first.Body)
	}
	expectError(t, inner, 409, "REQUEST_IN_PROGRESS")
	if n := h.svc.count("Book"); n != 1 {
		t.Errorf("Book ran %d times, want 1", n)
	}
}

func TestFailedRequestIsReleasedSoARetryRuns(t *testing.T) {
	h := newHarness()
	h.svc.err = apperr.E(apperr.SlotUnavailable, "taken")
	expectError(t, h.serve(t, BookAppointment(h.svc), bookEvent(t)), 409, "SLOT_UNAVAILABLE")
	if _, kept := h.idem.record(h.idem.begins[0].Key); h.idem.releases != 1 || kept {
		t.Fatalf("releases = %d, record kept = %v: the failed claim must be released", h.idem.releases, kept)
	}
	h.svc.err = nil
	if resp := h.serve(t, BookAppointment(h.svc), bookEvent(t)); resp.StatusCode != 201 {
		t.Fatalf("retry: %d %s", resp.StatusCode, resp.Body)
	}
	if n := h.svc.count("Book"); n != 2 {
		t.Errorf("Book ran %d times, want 2 (the retry runs)", n)
	}
}

func TestPanickingHandlerReleasesItsClaim(t *testing.T) {
	h := newHarness()
	h.svc.book = func(context.Context, domain.Actor, app.BookInput) (domain.Appointment, error) { panic("bug") }
	expectError(t, h.serve(t, BookAppointment(h.svc), bookEvent(t)), 500, "INTERNAL")
	if _, kept := h.idem.record(h.idem.begins[0].Key); h.idem.releases != 1 || kept {
		t.Errorf("releases = %d, record kept = %v", h.idem.releases, kept)
	}
}

func TestStoreCompletedClaimIsNotCompletedTwice(t *testing.T) {
	h := newHarness()
	h.svc.book = func(ctx context.Context, _ domain.Actor, _ app.BookInput) (domain.Appointment, error) {
		// What the DynamoDB store does: complete the claim in the booking
		// transaction, with the body the claim's renderer makes.
		c := idempotency.FromContext(ctx)
		if c == nil || c.SuccessStatus != 201 || c.Hash == "" || !c.ExpiresAt.Equal(fixedNow.Add(24*time.Hour)) {
			t.Errorf("claim in ctx = %+v", c)
			return domain.Appointment{}, errors.New("no claim")
		}
		if c.Render == nil {
			t.Error("claim carries no renderer")
			return domain.Appointment{}, errors.New("no renderer")
		}
		a := fixtureAppointment("apt_tx")
		body, err := c.Render(a)
		if err != nil {
			return domain.Appointment{}, err
		}
		h.idem.completeInTransaction(t, ctx, c, body)
		return a, nil
	}
	first := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	if first.StatusCode != 201 || h.idem.completes != 0 {
		t.Fatalf("status %d, Complete calls %d (want 201 and 0)", first.StatusCode, h.idem.completes)
	}
	if rec, _ := h.idem.record(h.idem.begins[0].Key); string(rec.Body) != first.Body {
		t.Errorf("stored body %s\nfirst answer %s", rec.Body, first.Body)
	}
	replay := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	if replay.Body != first.Body || replay.StatusCode != 201 || replay.Headers[HeaderIdempotentReplayed] != "true" {
		t.Errorf("replay = %d %s, want the first body", replay.StatusCode, replay.Body)
	}
}

// TestClaimRendersWhatTheRouteAnswers checks, for every idempotent route that
// answers with a visit, that the renderer its claim carries (which the store
// uses for the completion inside the booking transaction) makes exactly the
// route's answer: the wire type's JSON, including members the domain does not
// serialise the same way (Money as {"value","currency"}, no cells).
func TestClaimRendersWhatTheRouteAnswers(t *testing.T) {
	rich := goldenSvc{full: true}.appointment("apt_tx")
	for _, rt := range Routes(&fakeSvc{}) {
		if rt.Method != "POST" || !strings.HasPrefix(rt.Path, "/v1/appointments") {
			continue
		}
		t.Run(rt.Name, func(t *testing.T) {
			if rt.RenderAppointment == nil {
				t.Fatal("an appointment write route without RenderAppointment: its claim could not be completed in the transaction")
			}
			h := newHarness()
			var stored []byte
			complete := func(ctx context.Context) (domain.Appointment, error) {
				c := idempotency.FromContext(ctx)
				body, err := c.Render(rich)
				if err != nil {
					return domain.Appointment{}, err
				}
				stored = body
				h.idem.completeInTransaction(t, ctx, c, body)
				return rich, nil
			}
			h.svc.book = func(ctx context.Context, _ domain.Actor, _ app.BookInput) (domain.Appointment, error) {
				return complete(ctx)
			}
			h.svc.cancelFunc = func(ctx context.Context, _ domain.Actor, _, _ string) (domain.Appointment, error) {
				return complete(ctx)
			}
			h.svc.transition = func(ctx context.Context) (domain.Appointment, error) { return complete(ctx) }
			h.svc.reschedule = func(ctx context.Context) (domain.Appointment, error) { return complete(ctx) }
			route := Routes(h.svc)[rt.Key()] // the same route over h.svc
			req := goldenRequests[route.Name]
			ev := withHeader(adminEvent(t, route, req.path, req.query, req.body), HeaderIdempotencyKey, "k-render")
			first := h.serve(t, route, ev)
			if first.StatusCode/100 != 2 || stored == nil {
				t.Fatalf("status %d %s; stored %s", first.StatusCode, first.Body, stored)
			}
			if string(stored) != first.Body {
				t.Errorf("stored completion %s\nfirst answer      %s", stored, first.Body)
			}
			wire, _ := json.Marshal(appointmentResponse(rich))
			if string(stored) != string(wire) {
				t.Errorf("stored completion is not the wire type's JSON:\n%s\n%s", stored, wire)
			}
			replay := h.serve(t, route, ev)
			if replay.Body != first.Body || replay.Headers[HeaderIdempotentReplayed] != "true" {
				t.Errorf("replay %s %v, want the first answer", replay.Body, replay.Headers)
			}
		})
	}
}

func TestIdempotencyKeyRules(t *testing.T) {
	t.Run("missing on a required route", func(t *testing.T) {
		h := newHarness()
		ev := withHeader(bookEvent(t), "idempotency-key", "")
		d := expectError(t, h.serve(t, BookAppointment(h.svc), ev), 400, "VALIDATION_FAILED")
		if !strings.Contains(d.Message, "Idempotency-Key") || h.svc.count("Book") != 0 {
			t.Errorf("message %q, Book calls %d", d.Message, h.svc.count("Book"))
		}
	})
	t.Run("header name is case-insensitive", func(t *testing.T) {
		h := newHarness()
		ev := withHeader(withHeader(bookEvent(t), "idempotency-key", ""), "Idempotency-Key", "k-1")
		if resp := h.serve(t, BookAppointment(h.svc), ev); resp.StatusCode != 201 {
			t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
	})
	for name, key := range map[string]string{
		"too long":     strings.Repeat("k", 201),
		"control char": "key\x01",
		"non-ASCII":    "clé",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness()
			ev := withHeader(bookEvent(t), "idempotency-key", key)
			expectError(t, h.serve(t, BookAppointment(h.svc), ev), 400, "VALIDATION_FAILED")
		})
	}
	t.Run("200 characters is fine", func(t *testing.T) {
		h := newHarness()
		ev := withHeader(bookEvent(t), "idempotency-key", strings.Repeat("k", 200))
		if resp := h.serve(t, BookAppointment(h.svc), ev); resp.StatusCode != 201 {
			t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("optional route without a key runs plainly", func(t *testing.T) {
		h := newHarness()
		ev := withHeader(loadEvent(t, "apigw-v2-cancel-base64.json"), "idempotency-key", "")
		if resp := h.serve(t, CancelAppointment(h.svc), ev); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		if len(h.idem.begins) != 0 {
			t.Error("the store was used without a key")
		}
	})
	t.Run("optional route with a key is idempotent", func(t *testing.T) {
		h := newHarness()
		ev := withHeader(loadEvent(t, "apigw-v2-cancel-base64.json"), "idempotency-key", "cancel-1")
		first := h.serve(t, CancelAppointment(h.svc), ev)
		second := h.serve(t, CancelAppointment(h.svc), ev)
		if first.StatusCode != 200 || second.Body != first.Body || second.Headers[HeaderIdempotentReplayed] != "true" || h.svc.count("Cancel") != 1 {
			t.Errorf("first %d, second %d replayed=%q, Cancel calls %d", first.StatusCode, second.StatusCode, second.Headers[HeaderIdempotentReplayed], h.svc.count("Cancel"))
		}
	})
}

func TestKeysAreScopedToTheCaller(t *testing.T) {
	h := newHarness()
	h.serve(t, BookAppointment(h.svc), bookEvent(t))
	other := withClaims(bookEvent(t), map[string]string{
		"sub": "someone-else", "cognito:groups": "[patient]", "custom:patient_id": "pat_other",
	})
	resp := h.serve(t, BookAppointment(h.svc), other)
	if resp.StatusCode != 201 || resp.Headers[HeaderIdempotentReplayed] != "" {
		t.Errorf("another caller with the same key got %d replayed=%q", resp.StatusCode, resp.Headers[HeaderIdempotentReplayed])
	}
	if n := h.svc.count("Book"); n != 2 {
		t.Errorf("Book ran %d times, want 2", n)
	}
}

func TestStoreFailureIsA500(t *testing.T) {
	h := newHarness()
	h.idem.beginErr = errors.New("dynamodb throttled")
	expectError(t, h.serve(t, BookAppointment(h.svc), bookEvent(t)), 500, "INTERNAL")
	if h.svc.count("Book") != 0 {
		t.Error("the use case ran without a claim")
	}
}

func TestRouteWithIdempotencyNeedsAStore(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handle must refuse an idempotent route on a server without a store")
		}
	}()
	NewServer(nil, nil, testConfig()).Handle(BookAppointment(&fakeSvc{}))
}
