// Package publish wires the outbox publishers: the batch publisher of the
// table's stream and the scheduled sweep (SQS, not SES or SNS).
package publish

import (
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
