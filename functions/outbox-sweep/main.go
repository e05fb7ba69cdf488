// Command outbox-sweep is the scheduled Lambda that publishes outbox records
// the stream publisher left PENDING and sends notification jobs held by the
// quiet hours back to their queue (see template.yaml, OutboxSweepFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/publish"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireQueues)
	lambdakit.StartTyped(rt, publish.SweepAndRelease(rt))
}
