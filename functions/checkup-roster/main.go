// Command checkup-roster is the Lambda on the check-up roster queue: it
// records each corporate roster and splits it into per-participant work
// (see template.yaml, CheckupRosterFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/checkup"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable,
		config.Config.RequireDeadLetterQueue, config.Config.RequireCheckupWorkQueue)
	lambdakit.StartTyped(rt, checkup.CheckupRoster(rt).Handle)
}
