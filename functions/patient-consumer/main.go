// Command patient-consumer is the Lambda on the Patient Service's queue that
// applies patient events to the profiles (see template.yaml,
// PatientConsumerFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireDeadLetterQueue)
	lambdakit.StartTyped(rt, integrations.PatientConsumer(rt).Handle)
}
