// Package wiring builds, once per cold start, the objects a function's main
// needs, so every main.go stays a few lines of wiring with no decisions in it.
package wiring

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/outbox"
	"github.com/labchain/appointments/shared/sqsx"
)

// Booking returns the booking use cases over the DynamoDB table of the
// function's configuration, and the HTTP server (with idempotency records in
// the same table) that adapts them to API Gateway.
func Booking(rt *lambdakit.Runtime) (*app.Service, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(rt.AWS), rt.Config.TableName)
	svc := app.New(store, time.Now).WithMaxActiveBookings(rt.Config.MaxActiveBookingsPerPatient)
	return svc, httpapi.NewServer(store, time.Now, rt.Config)
}

// Public returns an HTTP server for routes that touch no data (health).
func Public(rt *lambdakit.Runtime) *httpapi.Server {
	return httpapi.NewServer(nil, time.Now, rt.Config)
}

// OutboxStream returns the batch publisher: the handler of the booking
// table's stream that publishes outbox records to their targets' queues (see
// outbox.StreamHandler). Pass config.Config.RequireTable and
// config.Config.RequireQueues to lambdakit.MustInit.
func OutboxStream(rt *lambdakit.Runtime) *outbox.StreamHandler {
	pub, _ := outboxPublisher(rt)
	return outbox.NewStreamHandler(pub, dynamo.OutboxEventFromStreamImage)
}

// OutboxSweep returns the scheduled sweep that publishes outbox records left
// PENDING longer than rt.Config.OutboxSweepAge, at most
// rt.Config.OutboxSweepMaxRecords per run, through the same publisher.
func OutboxSweep(rt *lambdakit.Runtime) *outbox.Sweeper {
	pub, store := outboxPublisher(rt)
	return outbox.NewSweeper(pub, store, rt.Config.OutboxSweepAge, rt.Config.OutboxSweepMaxRecords, time.Now)
}

// outboxPublisher builds the publisher over the table and the queues of the
// configuration, with the embedded routing table. A bad routing table or a
// routed target without a queue URL fails the cold start.
func outboxPublisher(rt *lambdakit.Runtime) (*outbox.Publisher, *dynamo.Store) {
	store := dynamo.New(dynamodb.NewFromConfig(rt.AWS), rt.Config.TableName)
	routes, err := outbox.DefaultRoutes()
	if err != nil {
		coldStartFailed(rt, err)
	}
	sender := sqsx.NewBatchSender(sqs.NewFromConfig(rt.AWS))
	pub, err := outbox.NewPublisher(routes, outbox.QueueURLs(rt.Config), sender, store)
	if err != nil {
		coldStartFailed(rt, err)
	}
	return pub, store
}

// coldStartFailed logs err and exits, as lambdakit.MustInit does, so the
// function fails its cold start visibly instead of every invocation.
func coldStartFailed(rt *lambdakit.Runtime, err error) {
	rt.Logger.Error("cold start failed", lambdakit.FieldFunction, rt.FunctionName, "error", err.Error())
	_ = rt.Shutdown(context.Background())
	os.Exit(1)
}
