package lambdakit

import "time"

// ScheduledRun is the input of a scheduled function: EventBridge
// Scheduler's target Input {"scheduledTime":"<aws.scheduler.scheduled-time>"}
// (template.yaml), or an EventBridge "Scheduled Event" with its time, or {}
// for a manual invocation. Other members are ignored. Jobs decide as of At,
// not the clock, so a late or retried invocation decides as its schedule
// would have, and the local platform can fire a run at a fake time (POST
// /_local/schedules/{id}/run).
type ScheduledRun struct {
	// ScheduledTime is EventBridge Scheduler's scheduled time of the run.
	ScheduledTime time.Time `json:"scheduledTime"`
	// Time is the time of an EventBridge scheduled event.
	Time time.Time `json:"time"`
}

// At returns the run's reference time: ScheduledTime, else Time, else now().
func (r ScheduledRun) At(now func() time.Time) time.Time {
	switch {
	case !r.ScheduledTime.IsZero():
		return r.ScheduledTime
	case !r.Time.IsZero():
		return r.Time
	}
	return now()
}
