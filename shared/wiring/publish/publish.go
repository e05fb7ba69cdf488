// Package publish wires the outbox publishers: the batch publisher of the
// table's stream and the scheduled sweep (SQS, not SES or SNS).
package publish

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/awssdk"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/outbox"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/wiring"
)

// OutboxStream returns the batch publisher: the handler of the booking
// table's stream that publishes outbox records to their targets' queues (see
// outbox.StreamHandler). Pass config.Config.RequireTable and
// config.Config.RequireQueues to lambdakit.MustInit.
func OutboxStream(rt *lambdakit.Runtime) *outbox.StreamHandler {
	pub, _ := outboxPublisher(rt)
	return outbox.NewStreamHandler(pub, dynamo.OutboxEventFromStreamImage)
}

// OutboxSweep returns the scheduled sweep that publishes outbox records left
// PENDING longer than rt.Config.OutboxSweepAge, in pages of
// rt.Config.OutboxSweepMaxRecords, through the same publisher.
func OutboxSweep(rt *lambdakit.Runtime) *outbox.Sweeper {
	pub, store := outboxPublisher(rt)
	return outbox.NewSweeper(pub, store, rt.Config.OutboxSweepAge, rt.Config.OutboxSweepMaxRecords, time.Now)
}

// SweepReport is what one run of OutboxSweepFunction did: the outbox sweep
// (flat, as before) and the release of held notification jobs.
type SweepReport struct {
	outbox.SweepResult
	Held sqsx.ReleaseReport `json:"held"`
}

// SweepAndRelease returns the handler of OutboxSweepFunction: the outbox
// sweep (OutboxSweep), then the release of the notification jobs held by the
// quiet hours whose time has come, back to NotificationsQueue (see
// sqsx.Releaser; the function already sends there). Both run whatever the
// other did; the errors are joined.
func SweepAndRelease(rt *lambdakit.Runtime) func(context.Context, outbox.SweepRequest) (SweepReport, error) {
	pub, store := outboxPublisher(rt)
	sweep := outbox.NewSweeper(pub, store, rt.Config.OutboxSweepAge, rt.Config.OutboxSweepMaxRecords, time.Now)
	release := sqsx.NewReleaser(store.Holds(dynamo.HoldsNotifications), pub.Sender(), rt.Config.NotificationsQueueURL)
	return func(ctx context.Context, req outbox.SweepRequest) (SweepReport, error) {
		var rep SweepReport
		var err1, err2 error
		rep.SweepResult, err1 = sweep.Handle(ctx, req)
		rep.Held, err2 = release.Run(ctx, req.At(time.Now))
		return rep, errors.Join(err1, err2)
	}
}

// outboxPublisher builds the publisher over the table and the queues of the
// configuration, with the embedded routing table. A bad routing table or a
// routed target without a queue URL fails the cold start.
func outboxPublisher(rt *lambdakit.Runtime) (*outbox.Publisher, *dynamo.Store) {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	routes, err := outbox.DefaultRoutes()
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	sender := sqsx.NewBatchSender(sqs.NewFromConfig(awsCfg))
	pub, err := outbox.NewPublisher(routes, outbox.QueueURLs(rt.Config), sender, store)
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	return pub, store
}
