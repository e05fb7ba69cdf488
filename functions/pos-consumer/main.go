// Command pos-consumer is the Lambda on the POS queue that applies order
// events to appointments' billing (see template.yaml, PosConsumerFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireDeadLetterQueue)
	lambdakit.StartTyped(rt, integrations.POSConsumer(rt).Handle)
}
