// Command checkup-booking is the Lambda on the check-up work queue: it books
// each campaign participant through the booking use case (see template.yaml,
// CheckupBookingFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/checkup"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireDeadLetterQueue)
	lambdakit.StartTyped(rt, checkup.CheckupBooking(rt).Handle)
}
