// Command reminder-job is the scheduled Lambda that records due visit reminders (see template.yaml, ReminderJobFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/scheduled"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable)
	lambdakit.StartTyped(rt, scheduled.ReminderJob(rt))
}
