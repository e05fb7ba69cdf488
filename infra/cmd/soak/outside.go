package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/localdev"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
)

// outside plays the systems that read AppointmentEventsQueue (LIS, POS,
// analytics; nothing in the template consumes it): it receives and deletes
// every event, counting messages and distinct event ids (the publisher is at
// least once: a resent event keeps its id).
type outside struct {
	sq  *sqs.Client
	url string

	mu   sync.Mutex
	msgs int
	ids  map[string]int
}

func (o *outside) consume(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := o.sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(o.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if ce, err := events.Decode([]byte(aws.ToString(m.Body))); err == nil {
				id = ce.ID
			}
			o.mu.Lock()
			o.msgs++
			o.ids[id]++
			o.mu.Unlock()
			_, _ = o.sq.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: aws.String(o.url), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func (o *outside) counts() (msgs, distinct int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.msgs, len(o.ids)
}

// pendingOutbox counts the outbox records still PENDING (-1 if unknown).
func pendingOutbox(ctx context.Context, p *localdev.Platform) int {
	store := dynamo.New(dynamolocal.NewClient(p.DynamoEndpoint()), "BookingTable")
	evs, err := store.PendingOutbox(ctx, time.Now().Add(time.Hour), 1000)
	if err != nil && len(evs) == 0 {
		return -1
	}
	return len(evs)
}

// instances counts the emulator instances of every function.
func instances(p *localdev.Platform) int {
	n := 0
	for _, id := range p.FunctionIDs() {
		insts, _ := p.Instances(id)
		n += len(insts)
	}
	return n
}

// loadAvg is the machine's 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
