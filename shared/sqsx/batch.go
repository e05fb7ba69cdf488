package sqsx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// SQS limits of one SendMessageBatch request.
const (
	// MaxBatchEntries is the most entries SQS accepts in one batch.
	MaxBatchEntries = 10
	// MaxBatchBytes bounds the total size of a batch (bodies plus attribute
	// names, types and values), and so of one message. 256 KiB is SQS's
	// classic limit and the default MaximumMessageSize, so it holds for every
	// queue whatever its configuration.
	MaxBatchBytes = 256 * 1024
)

// Defaults of BatchSender.
const (
	// DefaultMaxAttempts is how many times an entry is sent at most.
	DefaultMaxAttempts = 5
	// DefaultBaseDelay is the backoff before the first retry.
	DefaultBaseDelay = 100 * time.Millisecond
	// DefaultMaxDelay caps the backoff between retries.
	DefaultMaxDelay = 5 * time.Second
)

// ErrTooLarge is the error of an entry bigger than MaxBatchBytes; it is not
// sent.
var ErrTooLarge = errors.New("sqsx: message larger than 256 KiB")

// ErrEmptyBody is the error of an entry with an empty body (SQS refuses
// one); it is not sent.
var ErrEmptyBody = errors.New("sqsx: empty message body")

// SendMessageBatchAPI is the part of *sqs.Client that BatchSender uses.
type SendMessageBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Entry is one message to send.
type Entry struct {
	// ID identifies the entry in the results: unique within one SendAll call,
	// 1..80 of [A-Za-z0-9_-] (an SQS batch entry id). Not sent as a message
	// attribute.
	ID string
	// Body is the message body; it must not be empty.
	Body string
	// Attributes are message attributes, all of data type String (at most 10,
	// values non-empty: SQS's rules).
	Attributes map[string]string
	// GroupID is the message group id; required for a FIFO queue, "" for a
	// standard queue.
	GroupID string
	// DeduplicationID is the FIFO deduplication id; "" for a standard queue or
	// a FIFO queue with content-based deduplication.
	DeduplicationID string
}

// size is what the entry counts against MaxBatchBytes.
func (e Entry) size() int {
	n := len(e.Body)
	for k, v := range e.Attributes {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// EntryError is SQS's reason for refusing one entry of a batch.
type EntryError struct {
	// ID is the entry's id.
	ID string
	// Code is SQS's error code, such as "InvalidParameterValue".
	Code string
	// Message is SQS's error text.
	Message string
	// SenderFault is true when the entry itself is at fault (retrying it
	// unchanged cannot succeed).
	SenderFault bool
}

// Error returns the entry id, SQS's code and message.
func (e *EntryError) Error() string {
	return fmt.Sprintf("sqsx: entry %s refused: %s: %s", e.ID, e.Code, e.Message)
}

// Retryable reports whether resending the entry unchanged may succeed: a
// service-side failure, or throttling whoever's fault SQS calls it.
func (e *EntryError) Retryable() bool { return e.retryable() }

func (e *EntryError) retryable() bool {
	return !e.SenderFault || strings.Contains(strings.ToLower(e.Code), "throttl")
}

// BatchSender sends messages with SendMessageBatch: chunks of at most
// MaxBatchEntries entries and MaxBatchBytes, retrying only the entries that
// failed, with exponential backoff and jitter. Its exported fields may be
// changed before first use.
type BatchSender struct {
	client SendMessageBatchAPI
	// MaxAttempts is how many times an entry is sent at most; default
	// DefaultMaxAttempts. The SDK's own retries of a whole request come on
	// top of these.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt, doubled for each
	// further one (with jitter); default DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps the backoff; default DefaultMaxDelay.
	MaxDelay time.Duration
}

// NewBatchSender returns a BatchSender with the default retry settings.
func NewBatchSender(client SendMessageBatchAPI) *BatchSender {
	return &BatchSender{client: client, MaxAttempts: DefaultMaxAttempts, BaseDelay: DefaultBaseDelay, MaxDelay: DefaultMaxDelay}
}

var entryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// SendAll sends entries to the queue at queueURL. Every entry that is not a
// key of failed was accepted by SQS; failed maps the id of each entry that
// finally was not to why: ErrTooLarge or ErrEmptyBody (never sent), an
// *EntryError (SQS refused it: not retried when it is the sender's fault,
// else retried up to MaxAttempts), the request's error (for errors that
// concern the whole request), or ctx's error for entries still pending when
// ctx ended.
//
// err is non-nil when the call did not run to the end: entries with invalid
// or duplicate ids (then nothing was sent and failed is nil), or ctx ended
// (then failed holds every entry not known to be accepted). A message may be
// sent twice when a response is lost, as with any SQS producer: consumers
// deduplicate by business key.
func (b *BatchSender) SendAll(ctx context.Context, queueURL string, entries []Entry) (failed map[string]error, err error) {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !entryID.MatchString(e.ID) {
			return nil, fmt.Errorf("sqsx: entry id %q must be 1..80 of [A-Za-z0-9_-]", e.ID)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("sqsx: duplicate entry id %q", e.ID)
		}
		seen[e.ID] = true
	}

	failed = map[string]error{}
	var pending []Entry
	for _, e := range entries {
		switch {
		case e.Body == "":
			failed[e.ID] = ErrEmptyBody
		case e.size() > MaxBatchBytes:
			failed[e.ID] = ErrTooLarge
		default:
			pending = append(pending, e)
		}
	}

	attempts := max(b.MaxAttempts, 1)
	lastErr := map[string]error{}
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, b.backoff(attempt-1)); err != nil {
				for _, e := range pending {
					failed[e.ID] = err
				}
				return failed, err
			}
		}
		var retry []Entry
		for _, chunk := range plan(pending) {
			if err := ctx.Err(); err != nil {
				retry = append(retry, chunk...) // failed below with ctx's error
				continue
			}
			retry = append(retry, b.send(ctx, queueURL, chunk, lastErr, failed)...)
		}
		if err := ctx.Err(); err != nil {
			for _, e := range retry {
				failed[e.ID] = err
			}
			return failed, err
		}
		if attempt >= attempts {
			for _, e := range retry {
				failed[e.ID] = lastErr[e.ID]
			}
			break
		}
		pending = retry
	}
	return failed, nil
}

// send sends one chunk and returns the entries worth retrying, recording
// their error in lastErr; entries that failed for good go to failed.
func (b *BatchSender) send(ctx context.Context, queueURL string, chunk []Entry, lastErr, failed map[string]error) []Entry {
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: make([]types.SendMessageBatchRequestEntry, len(chunk))}
	for i, e := range chunk {
		in.Entries[i] = requestEntry(e)
	}
	out, err := b.client.SendMessageBatch(ctx, in)
	if err != nil {
		err = fmt.Errorf("sqsx: SendMessageBatch: %w", err)
		if !retryableRequestError(err) {
			for _, e := range chunk {
				failed[e.ID] = err
			}
			return nil
		}
		for _, e := range chunk {
			lastErr[e.ID] = err
		}
		return chunk
	}
	byID := make(map[string]Entry, len(chunk))
	for _, e := range chunk {
		byID[e.ID] = e
	}
	var retry []Entry
	for _, f := range out.Failed {
		id := aws.ToString(f.Id)
		e, ok := byID[id]
		if !ok {
			continue // not ours; cannot happen with a conforming server
		}
		delete(byID, id)
		ee := &EntryError{ID: id, Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		if ee.retryable() {
			lastErr[id] = ee
			retry = append(retry, e)
		} else {
			failed[id] = ee
		}
	}
	for _, s := range out.Successful {
		delete(byID, aws.ToString(s.Id))
	}
	// An entry in neither list has an unknown fate; sending it again is the
	// at-least-once choice.
	for _, e := range chunk {
		if _, unknown := byID[e.ID]; unknown {
			lastErr[e.ID] = fmt.Errorf("sqsx: entry %s missing from the SendMessageBatch response", e.ID)
			retry = append(retry, e)
		}
	}
	return retry
}

func requestEntry(e Entry) types.SendMessageBatchRequestEntry {
	re := types.SendMessageBatchRequestEntry{Id: aws.String(e.ID), MessageBody: aws.String(e.Body)}
	if len(e.Attributes) > 0 {
		re.MessageAttributes = make(map[string]types.MessageAttributeValue, len(e.Attributes))
		for k, v := range e.Attributes {
			re.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if e.GroupID != "" {
		re.MessageGroupId = aws.String(e.GroupID)
	}
	if e.DeduplicationID != "" {
		re.MessageDeduplicationId = aws.String(e.DeduplicationID)
	}
	return re
}

// retryableRequestError reports whether a failed SendMessageBatch request may
// succeed if sent again: not when SQS blames the request (a missing queue,
// a malformed batch), except for throttling.
func retryableRequestError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if strings.Contains(strings.ToLower(api.ErrorCode()), "throttl") {
			return true
		}
		return api.ErrorFault() != smithy.FaultClient
	}
	return true // network errors and the like
}

// plan splits entries, in order, into batches of at most MaxBatchEntries
// entries and MaxBatchBytes bytes. Every entry is at most MaxBatchBytes.
func plan(entries []Entry) [][]Entry {
	var batches [][]Entry
	var cur []Entry
	size := 0
	for _, e := range entries {
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+e.size() > MaxBatchBytes) {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.size()
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// backoff returns the delay before retry number n (1 for the first retry):
// BaseDelay·2^(n-1), capped at MaxDelay, with jitter in [d/2, d].
func (b *BatchSender) backoff(n int) time.Duration {
	base, maxd := b.BaseDelay, b.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxd <= 0 {
		maxd = DefaultMaxDelay
	}
	d := base
	for i := 1; i < n && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
