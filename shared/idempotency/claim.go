// Package idempotency carries an idempotency claim through a request so that the
// business transaction can record the request's outcome atomically with its
// effect. It has no AWS dependency; the DynamoDB store implements the records.
package idempotency

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// Record states, as in Powertools for AWS Lambda.
const (
	StatusInProgress = "INPROGRESS"
	StatusCompleted  = "COMPLETED"
)

// Claim is a request's hold on an idempotency key. The HTTP middleware creates
// it (after storing an INPROGRESS record); a store that commits the request's
// effect may also commit the completion in the same transaction and then sets
// Completed, so a crash between effect and completion cannot cause a replay to
// apply the effect twice.
type Claim struct {
	// Key is the storage key, already scoped to the caller.
	Key string
	// Hash identifies the request (route, path and canonical body).
	Hash string
	// SuccessStatus is the HTTP status the route answers on success.
	SuccessStatus int
	// ExpiresAt is when the record may be forgotten (at least 24 h).
	ExpiresAt time.Time
	// InProgressUntil is the in-progress deadline this claim stored: it tells
	// this claim's record from the record of a later claim that took the key
	// over after this one lapsed, so Release never deletes the other's.
	InProgressUntil time.Time
	// Render renders the appointment a store's transaction writes as the
	// response body of the request that holds the claim. The HTTP layer sets
	// it, so a store that completes the claim inside its own transaction
	// stores exactly the bytes the HTTP answer carries (and a replay sends).
	// A store must not complete a claim whose Render is nil inside its
	// transaction: it does not know the answer's shape.
	Render func(domain.Appointment) ([]byte, error)
	// Completed is set once the completion has been stored.
	Completed bool
}

// Record is a stored idempotency record.
type Record struct {
	Key             string
	Hash            string
	Status          string // StatusInProgress or StatusCompleted
	StatusCode      int
	Body            []byte
	InProgressUntil time.Time
	ExpiresAt       time.Time
}

type ctxKey struct{}

// NewContext returns ctx carrying the claim.
func NewContext(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the claim in ctx, or nil.
func FromContext(ctx context.Context) *Claim {
	c, _ := ctx.Value(ctxKey{}).(*Claim)
	return c
}
