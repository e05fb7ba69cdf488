// Command batch-publisher is the Lambda on the booking table's stream that
// publishes outbox records to SQS (see template.yaml, BatchPublisherFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/publish"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireQueues)
	lambdakit.StartTyped(rt, publish.OutboxStream(rt).Handle)
}
