// Command status-sweep is the scheduled Lambda that marks missed visits no_show (see template.yaml, StatusSweepFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/scheduled"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable)
	lambdakit.StartTyped(rt, scheduled.StatusSweepJob(rt))
}
