// Package scheduled wires the scheduled jobs (reminders, status sweep,
// cleanup) as EventBridge-scheduled Lambda handlers.
package scheduled

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/awssdk"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/jobs"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring"
)

// Job adapts a job's Run to a scheduled Lambda handler: the run's now is
// the schedule's time (lambdakit.ScheduledRun.At), in UTC.
func Job[R any](run func(ctx context.Context, now time.Time) (R, error)) func(context.Context, lambdakit.ScheduledRun) (R, error) {
	return func(ctx context.Context, in lambdakit.ScheduledRun) (R, error) {
		return run(ctx, in.At(time.Now).UTC())
	}
}

// jobsConfig reads the jobs' configuration; a bad one fails the cold start.
func jobsConfig(rt *lambdakit.Runtime) (jobs.Config, *dynamo.Store) {
	cfg, err := jobs.ConfigFromEnv(os.Getenv)
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	return cfg, dynamo.New(dynamodb.NewFromConfig(awssdk.MustLoad(rt)), rt.Config.TableName)
}

// ReminderJob returns the handler of ReminderJobFunction: due reminders
// (REMINDER_LEAD_TIMES, QUIET_HOURS) recorded with their outbox event.
func ReminderJob(rt *lambdakit.Runtime) func(context.Context, lambdakit.ScheduledRun) (jobs.ReminderReport, error) {
	cfg, store := jobsConfig(rt)
	return Job(jobs.NewReminders(store, cfg.Reminders).Run)
}

// StatusSweepJob returns the handler of StatusSweepFunction: booked visits
// NO_SHOW_GRACE_MINUTES past their end marked no_show, through the booking
// service (history entry and event like a staff change).
func StatusSweepJob(rt *lambdakit.Runtime) func(context.Context, lambdakit.ScheduledRun) (jobs.SweepReport, error) {
	cfg, store := jobsConfig(rt)
	return Job(NewStatusSweep(store, cfg.NoShowGrace))
}

// NewStatusSweep returns a sweep run whose status changes are stamped with
// the run's time, not the clock: the booking service of each run reads the
// run's now, so a late run and a run at a fake time (the local platform)
// record the same history as an on-time one.
func NewStatusSweep(store *dynamo.Store, grace time.Duration) func(ctx context.Context, now time.Time) (jobs.SweepReport, error) {
	return func(ctx context.Context, now time.Time) (jobs.SweepReport, error) {
		svc := app.New(store, func() time.Time { return now })
		return jobs.NewStatusSweep(store, svc, grace, 0).Run(ctx, now)
	}
}

// CleanupJob returns the handler of CleanupJobFunction: expired idempotency,
// dedupe and outbox records deleted, and contact data removed from visits
// older than PDPA_RETENTION_DAYS.
func CleanupJob(rt *lambdakit.Runtime) func(context.Context, lambdakit.ScheduledRun) (jobs.CleanupReport, error) {
	cfg, store := jobsConfig(rt)
	return Job(jobs.NewCleanup(store, cfg.PDPARetention).Run)
}
