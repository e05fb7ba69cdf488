package sqsx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/labchain/appointments/shared/held"
	"github.com/labchain/appointments/shared/lambdakit"
)

// HoldStore lists and releases the messages held outside a queue
// (*dynamo.QueueHolds implements it).
type HoldStore interface {
	// Due returns up to limit messages held until before now, earliest first.
	Due(ctx context.Context, now time.Time, limit int) ([]held.Message, error)
	// Release deletes m's hold (not a newer hold of the same key).
	Release(ctx context.Context, m held.Message) error
}

// Sender sends entries to a queue and reports those not accepted
// (*BatchSender implements it).
type Sender interface {
	SendAll(ctx context.Context, queueURL string, entries []Entry) (failed map[string]error, err error)
}

// Releaser sends held messages back to their queue when their time has
// come (consumer.Holder keeps them meanwhile): held notification jobs go
// back to NotificationsQueue when the quiet hours end, so they never wait in
// the queue, where they would look like lag. A hold is deleted only after
// SQS accepted its message; a crash in between sends it again, which the
// consumer deduplicates by its key, so nothing is lost or done twice.
type Releaser struct {
	holds  HoldStore
	sender Sender
	url    string
}

// releasePage is how many holds one page of a run sends; releasePages
// bounds the pages of a run.
const (
	releasePage  = 100
	releasePages = 20
)

// NewReleaser returns a releaser of the holds of the queue at url.
func NewReleaser(holds HoldStore, sender Sender, url string) *Releaser {
	return &Releaser{holds: holds, sender: sender, url: url}
}

// ReleaseReport says what one run did.
type ReleaseReport struct {
	// Released counts messages sent back to the queue (and their holds
	// deleted); Failed those not accepted (they stay held and are due).
	Released int `json:"released"`
	Failed   int `json:"failed"`
}

// Run sends back every message held until before now, page after page, and
// deletes their holds. An error is returned when holds cannot be listed or
// some messages were not accepted (they are retried by the next run).
func (r *Releaser) Run(ctx context.Context, now time.Time) (ReleaseReport, error) {
	var rep ReleaseReport
	var errs []error
	seen := map[string]bool{}
	for range releasePages {
		due, err := r.holds.Due(ctx, now, releasePage)
		if err != nil {
			errs = append(errs, err)
			break
		}
		var msgs []held.Message
		for _, m := range due {
			if !seen[m.Key] { // the index may still list a released hold
				seen[m.Key] = true
				msgs = append(msgs, m)
			}
		}
		if len(msgs) == 0 {
			break
		}
		entries := make([]Entry, len(msgs))
		for i, m := range msgs {
			entries[i] = Entry{ID: "h" + strconv.Itoa(i), Body: m.Body, Attributes: m.Attributes}
		}
		failed, err := r.sender.SendAll(ctx, r.url, entries)
		if err != nil && failed == nil {
			errs = append(errs, fmt.Errorf("sqsx: release held messages: %w", err))
			break
		}
		for i, m := range msgs {
			if ferr, bad := failed[entries[i].ID]; bad {
				rep.Failed++
				errs = append(errs, fmt.Errorf("sqsx: release held message %s: %w", m.Key, ferr))
				continue
			}
			if err := r.holds.Release(ctx, m); err != nil {
				// Sent: the next run sends it again and the consumer
				// deduplicates it.
				errs = append(errs, err)
			}
			rep.Released++
		}
		if len(due) < releasePage {
			break
		}
	}
	if rep.Released > 0 || rep.Failed > 0 {
		lambdakit.Logger(ctx).InfoContext(ctx, "held messages released", "released", rep.Released, "failed", rep.Failed)
	}
	return rep, errors.Join(errs...)
}
