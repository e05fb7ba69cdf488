// Command cleanup-job is the scheduled Lambda that deletes expired records and applies PDPA data minimisation (see template.yaml, CleanupJobFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/scheduled"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable)
	lambdakit.StartTyped(rt, scheduled.CleanupJob(rt))
}
