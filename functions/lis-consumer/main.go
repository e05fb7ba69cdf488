// Command lis-consumer is the Lambda on the LIS queue that applies sample
// status changes to appointments (see template.yaml, LisConsumerFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireDeadLetterQueue)
	lambdakit.StartTyped(rt, integrations.LISConsumer(rt).Handle)
}
