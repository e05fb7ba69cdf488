// Package config reads a function's settings from its environment, once, at
// cold start. Every value has a documented default and a bound; a bad value is
// a deployment mistake, so Load reports it instead of guessing.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds of the settings.
const (
	// DefaultEnvironment is ENVIRONMENT when unset.
	DefaultEnvironment = "local"
	// DefaultServiceName is SERVICE_NAME when neither it nor
	// AWS_LAMBDA_FUNCTION_NAME is set.
	DefaultServiceName = "lab-appointments"
	// DefaultIdempotencyTTL is IDEMPOTENCY_TTL_HOURS when unset.
	DefaultIdempotencyTTL = 24 * time.Hour
	// MinIdempotencyTTL is the shortest TTL accepted: clients retry for up to a
	// day, and a shorter TTL would let a late retry book twice.
	MinIdempotencyTTL = 24 * time.Hour
	// DefaultMaxBodyBytes is MAX_BODY_BYTES when unset.
	DefaultMaxBodyBytes int64 = 64 << 10
	// MaxBodyBytesLimit is the largest MAX_BODY_BYTES accepted: the synchronous
	// Lambda payload limit.
	MaxBodyBytesLimit int64 = 6 << 20
	// DefaultMaxActiveBookings is MAX_ACTIVE_BOOKINGS_PER_PATIENT when unset.
	DefaultMaxActiveBookings = 3
	// DefaultOutboxSweepAge is OUTBOX_SWEEP_AGE_SECONDS when unset: the sweep
	// leaves younger records to the stream publisher.
	DefaultOutboxSweepAge = 2 * time.Minute
	// DefaultOutboxSweepMaxRecords is OUTBOX_SWEEP_MAX_RECORDS when unset.
	DefaultOutboxSweepMaxRecords = 200
)

const (
	maxIdempotencyTTLHours      = 24 * 366
	maxActiveBookingsUpperBound = 1000
	tableNameVariable           = "TABLE_NAME"
	notificationsQueueVariable  = "NOTIFICATIONS_QUEUE_URL"
	eventsQueueVariable         = "APPOINTMENT_EVENTS_QUEUE_URL"
	deadLetterQueueVariable     = "DEAD_LETTER_QUEUE_URL"
	checkupWorkQueueVariable    = "CHECKUP_WORK_QUEUE_URL"
	minOutboxSweepAgeSeconds    = 30
	maxOutboxSweepAgeSeconds    = 24 * 3600
	maxOutboxSweepRecords       = 1000
)

// Config is a function's configuration, read once at cold start.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME); required only by functions
	// that touch data, see RequireTable.
	TableName string
	// Environment names the deployment stage (ENVIRONMENT, default "local").
	Environment string
	// LogLevel is the minimum level logged (LOG_LEVEL: debug, info, warn or
	// error; default info).
	LogLevel slog.Level
	// IdempotencyTTL is how long idempotency records are kept
	// (IDEMPOTENCY_TTL_HOURS, default 24, at least 24).
	IdempotencyTTL time.Duration
	// MaxBodyBytes bounds an HTTP request body after base64 decoding
	// (MAX_BODY_BYTES, default 65536, at most 6 MiB).
	MaxBodyBytes int64
	// MaxActiveBookingsPerPatient caps a patient's booked visits
	// (MAX_ACTIVE_BOOKINGS_PER_PATIENT, default 3).
	MaxActiveBookingsPerPatient int
	// CORSAllowedOrigins are the browser origins that get CORS response headers
	// (CORS_ALLOWED_ORIGINS, a comma-separated list of scheme://host[:port], or
	// "*" for any origin). Empty: no CORS headers at all.
	CORSAllowedOrigins []string
	// ServiceName is the OpenTelemetry service.name and a log field
	// (SERVICE_NAME, else OTEL_SERVICE_NAME, else AWS_LAMBDA_FUNCTION_NAME, else
	// "lab-appointments").
	ServiceName string
	// NotificationsQueueURL is the queue of notification jobs
	// (NOTIFICATIONS_QUEUE_URL, an http(s) URL); required only by the event
	// publishers, see RequireQueues.
	NotificationsQueueURL string
	// AppointmentEventsQueueURL is the queue of outbound appointment events
	// (APPOINTMENT_EVENTS_QUEUE_URL, an http(s) URL); see RequireQueues.
	AppointmentEventsQueueURL string
	// DeadLetterQueueURL is the dead-letter queue of an SQS consumer's own
	// queue, where the consumer kit sends permanently failed messages
	// (DEAD_LETTER_QUEUE_URL, an http(s) URL); see RequireDeadLetterQueue.
	DeadLetterQueueURL string
	// CheckupWorkQueueURL is the queue of per-participant check-up work that
	// the roster consumer fills (CHECKUP_WORK_QUEUE_URL, an http(s) URL); see
	// RequireCheckupWorkQueue.
	CheckupWorkQueueURL string
	// OutboxSweepAge is how old a PENDING outbox record must be before the
	// sweep publishes it (OUTBOX_SWEEP_AGE_SECONDS, default 120, 30..86400).
	OutboxSweepAge time.Duration
	// OutboxSweepMaxRecords is the page size of the sweep (a run reads up
	// to 20 pages) and bounds the records one query returns
	// (OUTBOX_SWEEP_MAX_RECORDS, default 200, 1..1000).
	OutboxSweepMaxRecords int
}

// Load reads the configuration from the process environment. It reports every
// bad variable at once, each error naming the variable and the rule it breaks.
// TABLE_NAME is not required here; data functions call RequireTable.
func Load() (Config, error) {
	return LoadFrom(os.LookupEnv)
}

// LoadFrom is Load over any variable lookup (os.LookupEnv in production, a map
// in tests). Empty values count as unset.
func LoadFrom(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var errs []error
	bad := func(name, value, rule string) {
		errs = append(errs, fmt.Errorf("config: %s=%q: %s", name, value, rule))
	}

	c := Config{
		TableName:                   get(tableNameVariable),
		Environment:                 get("ENVIRONMENT"),
		LogLevel:                    slog.LevelInfo,
		IdempotencyTTL:              DefaultIdempotencyTTL,
		MaxBodyBytes:                DefaultMaxBodyBytes,
		MaxActiveBookingsPerPatient: DefaultMaxActiveBookings,
		ServiceName:                 get("SERVICE_NAME"),
		NotificationsQueueURL:       get(notificationsQueueVariable),
		AppointmentEventsQueueURL:   get(eventsQueueVariable),
		DeadLetterQueueURL:          get(deadLetterQueueVariable),
		CheckupWorkQueueURL:         get(checkupWorkQueueVariable),
		OutboxSweepAge:              DefaultOutboxSweepAge,
		OutboxSweepMaxRecords:       DefaultOutboxSweepMaxRecords,
	}
	if c.Environment == "" {
		c.Environment = DefaultEnvironment
	}
	if c.ServiceName == "" {
		// The OpenTelemetry standard variable (set by template.yaml) before the
		// derived default, so traces and logs agree on the service name.
		c.ServiceName = get("OTEL_SERVICE_NAME")
	}
	if c.ServiceName == "" {
		c.ServiceName = get("AWS_LAMBDA_FUNCTION_NAME")
	}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}

	if v := get("LOG_LEVEL"); v != "" {
		lvl, ok := parseLevel(v)
		if !ok {
			bad("LOG_LEVEL", v, "must be one of debug, info, warn, error")
		}
		c.LogLevel = lvl
	}

	if v := get("IDEMPOTENCY_TTL_HOURS"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad("IDEMPOTENCY_TTL_HOURS", v, "must be a whole number of hours")
		case n < int(MinIdempotencyTTL/time.Hour):
			bad("IDEMPOTENCY_TTL_HOURS", v, "must be at least 24")
		case n > maxIdempotencyTTLHours:
			bad("IDEMPOTENCY_TTL_HOURS", v, fmt.Sprintf("must be at most %d", maxIdempotencyTTLHours))
		default:
			c.IdempotencyTTL = time.Duration(n) * time.Hour
		}
	}

	if v := get("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			bad("MAX_BODY_BYTES", v, "must be a whole number of bytes")
		case n < 1 || n > MaxBodyBytesLimit:
			bad("MAX_BODY_BYTES", v, fmt.Sprintf("must be between 1 and %d", MaxBodyBytesLimit))
		default:
			c.MaxBodyBytes = n
		}
	}

	if v := get("MAX_ACTIVE_BOOKINGS_PER_PATIENT"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad("MAX_ACTIVE_BOOKINGS_PER_PATIENT", v, "must be a whole number")
		case n < 1 || n > maxActiveBookingsUpperBound:
			bad("MAX_ACTIVE_BOOKINGS_PER_PATIENT", v, fmt.Sprintf("must be between 1 and %d", maxActiveBookingsUpperBound))
		default:
			c.MaxActiveBookingsPerPatient = n
		}
	}

	for _, q := range []struct{ name, value string }{
		{notificationsQueueVariable, c.NotificationsQueueURL},
		{eventsQueueVariable, c.AppointmentEventsQueueURL},
		{deadLetterQueueVariable, c.DeadLetterQueueURL},
		{checkupWorkQueueVariable, c.CheckupWorkQueueURL},
	} {
		if q.value == "" {
			continue
		}
		if u, err := url.Parse(q.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(q.name, q.value, "must be a queue URL such as https://sqs.<region>.amazonaws.com/<account>/<name>")
		}
	}

	if v := get("OUTBOX_SWEEP_AGE_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad("OUTBOX_SWEEP_AGE_SECONDS", v, "must be a whole number of seconds")
		case n < minOutboxSweepAgeSeconds || n > maxOutboxSweepAgeSeconds:
			bad("OUTBOX_SWEEP_AGE_SECONDS", v, fmt.Sprintf("must be between %d and %d", minOutboxSweepAgeSeconds, maxOutboxSweepAgeSeconds))
		default:
			c.OutboxSweepAge = time.Duration(n) * time.Second
		}
	}

	if v := get("OUTBOX_SWEEP_MAX_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad("OUTBOX_SWEEP_MAX_RECORDS", v, "must be a whole number")
		case n < 1 || n > maxOutboxSweepRecords:
			bad("OUTBOX_SWEEP_MAX_RECORDS", v, fmt.Sprintf("must be between 1 and %d", maxOutboxSweepRecords))
		default:
			c.OutboxSweepMaxRecords = n
		}
	}

	if v := get("CORS_ALLOWED_ORIGINS"); v != "" {
		origins, err := parseOrigins(v)
		if err != nil {
			bad("CORS_ALLOWED_ORIGINS", v, err.Error())
		}
		c.CORSAllowedOrigins = origins
	}

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// RequireTable reports an error when TABLE_NAME is unset. Functions that read or
// write data pass it to lambdakit.MustInit so a missing table fails the cold
// start rather than the first request.
func (c Config) RequireTable() error {
	if c.TableName == "" {
		return fmt.Errorf("config: %s is required for this function", tableNameVariable)
	}
	return nil
}

// RequireQueues reports an error when NOTIFICATIONS_QUEUE_URL or
// APPOINTMENT_EVENTS_QUEUE_URL is unset. The outbox publishers pass it to
// lambdakit.MustInit.
func (c Config) RequireQueues() error {
	var errs []error
	for _, q := range []struct{ name, value string }{
		{notificationsQueueVariable, c.NotificationsQueueURL},
		{eventsQueueVariable, c.AppointmentEventsQueueURL},
	} {
		if q.value == "" {
			errs = append(errs, fmt.Errorf("config: %s is required for this function", q.name))
		}
	}
	return errors.Join(errs...)
}

// RequireDeadLetterQueue reports an error when DEAD_LETTER_QUEUE_URL is
// unset. SQS consumers pass it to lambdakit.MustInit.
func (c Config) RequireDeadLetterQueue() error {
	if c.DeadLetterQueueURL == "" {
		return fmt.Errorf("config: %s is required for this function", deadLetterQueueVariable)
	}
	return nil
}

// RequireCheckupWorkQueue reports an error when CHECKUP_WORK_QUEUE_URL is
// unset. The check-up roster consumer passes it to lambdakit.MustInit.
func (c Config) RequireCheckupWorkQueue() error {
	if c.CheckupWorkQueueURL == "" {
		return fmt.Errorf("config: %s is required for this function", checkupWorkQueueVariable)
	}
	return nil
}

// AllowsOrigin reports whether a browser Origin header value is in
// CORSAllowedOrigins ("*" allows every origin). Scheme and host compare
// case-insensitively, as browsers send them lower-cased anyway.
func (c Config) AllowsOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	for _, o := range c.CORSAllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// parseOrigins splits a comma list into normalised origins. An origin header
// never has a path, so "https://a.example/" is accepted as "https://a.example",
// but anything with a real path, query or user info is refused: it could never
// match and is certainly a typo.
func parseOrigins(s string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(s, ",") {
		o := strings.TrimSpace(raw)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("origin %q must look like https://host[:port]", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}
