// Package notifications wires the notification consumer: the dispatcher with
// the senders of the environment (SES and SNS in AWS) and its options.
package notifications

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/awssdk"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/jobs"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/notify/providers"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/wiring"
)

// notificationConsumer names the notification consumer (it scopes the
// dedupe records: never rename it).
const notificationConsumer = "notifications"

// NotificationConsumer returns the consumer of NotificationsQueue with the
// senders the environment selects (providers.ConfigFromEnv: SES and SNS in
// AWS, Mailpit and the local sink on the local platform) and
// NOTIFY_MAX_ATTEMPTS attempts per message. A bad configuration fails the
// cold start. Pass config.Config.RequireTable and RequireDeadLetterQueue to
// lambdakit.MustInit.
func NotificationConsumer(rt *lambdakit.Runtime) *consumer.Consumer[notify.Job] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	sqsClient := sqs.NewFromConfig(awsCfg)
	dlq := sqsx.NewDLQ(sqsClient, rt.Config.DeadLetterQueueURL)
	pcfg, err := providers.ConfigFromEnv(os.Getenv)
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	senders, err := providers.Senders(pcfg, awsCfg)
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	opts, err := NotifyOptionsFromEnv(os.Getenv)
	if err != nil {
		wiring.ColdStartFailed(rt, err)
	}
	if rt.Config.NotificationsQueueURL == "" {
		// The queue's own URL: jobs held by the quiet hours are hidden in it.
		wiring.ColdStartFailed(rt, errors.New("NOTIFICATIONS_QUEUE_URL is required"))
	}
	return NewNotificationConsumer(store, dlq, sqsx.NewDelayer(sqsClient, rt.Config.NotificationsQueueURL), senders, opts)
}

// NotifyOptionsFromEnv reads NOTIFY_MAX_ATTEMPTS (1..10, default
// notify.DefaultMaxAttempts), NOTIFY_BASE_BACKOFF_MS (10..10000, default
// notify.DefaultBaseBackoff), NOTIFY_FINAL_RECEIVE (1..4, below the
// queue's maxReceiveCount 5; default notify.DefaultFinalReceive) and
// QUIET_HOURS (as the reminder job reads it, default 21:00-07:00; "off"),
// and sets the metrics observer.
func NotifyOptionsFromEnv(getenv func(string) string) (notify.Options, error) {
	opts := notify.Options{Observe: ObserveDelivery}
	var errs []error
	if jc, err := jobs.ConfigFromEnv(func(k string) string {
		if k == jobs.EnvQuietHours {
			return getenv(k)
		}
		return "" // only the quiet hours concern notifications
	}); err != nil {
		errs = append(errs, err)
	} else {
		opts.Quiet = jc.Reminders
	}
	if v := getenv("NOTIFY_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			errs = append(errs, fmt.Errorf("NOTIFY_MAX_ATTEMPTS=%q: must be a whole number from 1 to 10", v))
		}
		opts.MaxAttempts = n
	}
	if v := getenv("NOTIFY_BASE_BACKOFF_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > 10000 {
			errs = append(errs, fmt.Errorf("NOTIFY_BASE_BACKOFF_MS=%q: must be a whole number from 10 to 10000", v))
		}
		opts.BaseBackoff = time.Duration(n) * time.Millisecond
	}
	if v := getenv("NOTIFY_FINAL_RECEIVE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4 {
			errs = append(errs, fmt.Errorf("NOTIFY_FINAL_RECEIVE=%q: must be a whole number from 1 to 4 (below the queue's maxReceiveCount)", v))
		}
		opts.FinalReceive = n
	}
	return opts, errors.Join(errs...)
}

// NewNotificationConsumer builds the notification consumer: each job,
// deduplicated by event id, is dispatched on every channel. A job for an
// unknown appointment is dead-lettered at once; a delivery in flight
// elsewhere and store errors are retried; a job held by the quiet hours is
// kept in the table until they end (dynamo.QueueHolds, released by
// OutboxSweepFunction) and acknowledged, or, if that fails, hidden in the
// queue (delayer).
func NewNotificationConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, delayer consumer.Delayer, senders map[notify.Channel]notify.Sender, opts notify.Options) *consumer.Consumer[notify.Job] {
	d := notify.NewDispatcher(store, senders, opts)
	return consumer.New(consumer.Options{
		Name: notificationConsumer, Store: store, DeadLetters: dl, Delayer: delayer, Concurrency: 5, Now: opts.Now,
		// Held jobs wait in the table, not in the queue (where they would
		// look like lag); OutboxSweepFunction sends them back at their time.
		Holder: store.Holds(dynamo.HoldsNotifications),
	}, func(ctx context.Context, j notify.Job, meta consumer.Meta) error {
		j.ReceiveCount = meta.ReceiveCount
		trace.SpanFromContext(ctx).SetAttributes(
			lambdakit.AttrAppointmentID.String(j.Appointment.ID), lambdakit.AttrEventType.String(j.Event.Type),
			lambdakit.AttrNotificationKind.String(string(j.Kind())))
		_, err := d.Dispatch(ctx, j)
		return err
	})
}

// ObserveDelivery logs a finished delivery (no contact, no body), adds it to
// the consumer's span as an event and emits its outcome metric.
func ObserveDelivery(ctx context.Context, d notify.Delivery) {
	trace.SpanFromContext(ctx).AddEvent("notification delivery", trace.WithAttributes(
		lambdakit.AttrNotificationChannel.String(string(d.Channel)), lambdakit.AttrNotificationStatus.String(string(d.Status))))
	lambdakit.Logger(ctx).InfoContext(ctx, "notification delivery",
		"appointmentId", d.AppointmentID, "jobId", d.JobID, "kind", string(d.Kind), "channel", string(d.Channel),
		"status", string(d.Status), "attempts", d.Attempts, "reason", d.Reason)
	metrics.EmitNotificationOutcome(ctx, string(d.Channel), string(d.Status), string(d.Kind))
}
