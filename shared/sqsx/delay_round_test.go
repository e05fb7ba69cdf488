package sqsx

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/consumer"
)

// recordingVisibility records the visibility timeouts Delayer asks for.
type recordingVisibility struct{ got []int32 }

func (r *recordingVisibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	r.got = append(r.got, in.VisibilityTimeout)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// TestDelayerRoundsUp: a held job must not come back before its due time,
// so a fractional delay is rounded up to the next whole second (never down),
// whole seconds stay as they are, and the cap still applies.
func TestDelayerRoundsUp(t *testing.T) {
	for _, c := range []struct {
		delay time.Duration
		want  int32
	}{
		{2*time.Hour + 999*time.Millisecond, 7201},
		{time.Nanosecond, 1},
		{1500 * time.Millisecond, 2},
		{3 * time.Second, 3},
		{0, 0},
		{-time.Second, 0},
		{consumer.MaxRetryDelay + time.Minute, int32(consumer.MaxRetryDelay / time.Second)},
		{consumer.MaxRetryDelay - time.Millisecond, int32(consumer.MaxRetryDelay / time.Second)},
	} {
		rec := &recordingVisibility{}
		if err := NewDelayer(rec, "q").Delay(context.Background(), events.SQSMessage{ReceiptHandle: "h"}, c.delay); err != nil {
			t.Fatal(err)
		}
		if len(rec.got) != 1 || rec.got[0] != c.want {
			t.Errorf("Delay(%v) asked for visibility %v, want %d s", c.delay, rec.got, c.want)
		}
	}
}
