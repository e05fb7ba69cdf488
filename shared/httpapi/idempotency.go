package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
)

// Idempotency headers.
const (
	// HeaderIdempotencyKey carries the client's key for a retry-safe request.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderIdempotentReplayed is "true" on a response replayed from a stored
	// outcome rather than produced now.
	HeaderIdempotentReplayed = "Idempotent-Replayed"
)

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 200

// defaultInProgressFor is how long a claim blocks duplicates when the context
// has no deadline (outside Lambda).
const defaultInProgressFor = 30 * time.Second

// cleanupTimeout bounds Complete and Release, which run even when the request
// context is cancelled, so that a retry is not blocked for nothing.
const cleanupTimeout = 2 * time.Second

// idempotencyKey returns the Idempotency-Key header: ok is false when absent;
// a present key must be 1..200 printable ASCII characters.
func idempotencyKey(r *Request) (key string, ok bool, err error) {
	key = r.Header(HeaderIdempotencyKey)
	if key == "" {
		return "", false, nil
	}
	if len(key) > MaxIdempotencyKeyLength {
		return "", true, apperr.E(apperr.Validation, "%s must be at most %d characters", HeaderIdempotencyKey, MaxIdempotencyKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return "", true, apperr.E(apperr.Validation, "%s must contain printable ASCII characters only", HeaderIdempotencyKey)
		}
	}
	return key, true, nil
}

// StorageKey scopes a client's Idempotency-Key to the caller and the route, so
// two callers (or two routes) can never replay each other's responses:
// "<role>#<sub>#<routeName>#<key>".
func StorageKey(r *Request, routeName, key string) string {
	return string(r.Actor.Role) + "#" + r.Actor.ID + "#" + routeName + "#" + key
}

// RequestHash identifies a request for idempotency: the SHA-256 of the route
// key, the raw path and the canonical JSON of the body, so that whitespace and
// member order do not make a retry look different.
func RequestHash(routeKey, rawPath string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(routeKey))
	h.Write([]byte{0})
	h.Write([]byte(rawPath))
	h.Write([]byte{0})
	h.Write(canonicalJSON(body))
	return hex.EncodeToString(h.Sum(nil))
}

// runIdempotent serves a route with an idempotency mode, with the semantics of
// Powertools for AWS Lambda: the first request with a key claims it
// (INPROGRESS) and runs; a repeat with the same request gets the stored
// outcome, or REQUEST_IN_PROGRESS while the first still runs; the same key
// with a different request gets IDEMPOTENCY_KEY_REUSED; a failed request
// releases its claim so the client can retry. Only successes are stored.
func (s *Server) runIdempotent(ctx context.Context, rt Route, req *Request) outcome {
	ev := req.Event
	key, present, err := idempotencyKey(req)
	if err != nil {
		return s.failure(err, ev)
	}
	if !present {
		if rt.Idempotency == IdemRequired {
			return s.failure(apperr.E(apperr.Validation, "the %s header is required", HeaderIdempotencyKey), ev)
		}
		return s.respond(s.call(ctx, rt, req))
	}

	now := s.now()
	inProgressUntil := now.Add(defaultInProgressFor)
	if dl, ok := ctx.Deadline(); ok {
		// Past the Lambda deadline the first attempt is dead; a retry may run.
		inProgressUntil = dl
	}
	rec := idempotency.Record{
		Key:             StorageKey(req, rt.Name, key),
		Hash:            RequestHash(ev.RouteKey, ev.RawPath, req.body),
		Status:          idempotency.StatusInProgress,
		InProgressUntil: inProgressUntil,
		ExpiresAt:       now.Add(s.cfg.IdempotencyTTL),
	}
	existing, err := s.idem.Begin(ctx, rec, now)
	if err != nil {
		return s.failure(apperr.Wrap(err, "begin idempotent request"), ev)
	}
	if existing != nil {
		switch {
		case existing.Hash != rec.Hash:
			return s.failure(apperr.E(apperr.IdempotencyKeyReused, "this %s was already used for a different request", HeaderIdempotencyKey), ev)
		case existing.Status == idempotency.StatusCompleted:
			status := existing.StatusCode
			if status == 0 {
				status = rt.successStatus()
			}
			return outcome{status: status, body: existing.Body, replayed: true}
		default:
			return s.failure(apperr.E(apperr.RequestInProgress, "a request with this %s is still in progress; retry later", HeaderIdempotencyKey), ev)
		}
	}

	claim := &idempotency.Claim{
		Key:             rec.Key,
		Hash:            rec.Hash,
		SuccessStatus:   rt.successStatus(),
		ExpiresAt:       rec.ExpiresAt,
		InProgressUntil: rec.InProgressUntil,
		Render:          rt.RenderAppointment,
	}
	status, body, err := s.call(idempotency.NewContext(ctx, claim), rt, req)

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	log := lambdakit.Logger(ctx).With("route", rt.Name)
	if err != nil {
		if claim.Completed {
			// The store recorded a success, then the handler failed: the stored
			// outcome stands and a retry will replay it.
			log.ErrorContext(ctx, "handler failed after its idempotent outcome was stored", "error", err.Error())
		} else if rerr := s.idem.Release(cctx, claim); rerr != nil {
			// The claim lapses at InProgressUntil; until then retries get 409.
			log.WarnContext(ctx, "idempotency release failed", "error", rerr.Error())
		}
		return outcome{err: err}
	}
	if !claim.Completed {
		if cerr := s.idem.Complete(cctx, claim, status, body); cerr != nil {
			// The effect happened and the client gets its answer; only a later
			// retry of this key could run again once the claim lapses.
			log.ErrorContext(ctx, "idempotency completion failed", "error", cerr.Error())
		}
	}
	return outcome{status: status, body: body}
}
