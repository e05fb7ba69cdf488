package config

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestLoadFrom(t *testing.T) {
	defaults := Config{
		Environment:                 "local",
		LogLevel:                    slog.LevelInfo,
		IdempotencyTTL:              24 * time.Hour,
		MaxBodyBytes:                65536,
		MaxActiveBookingsPerPatient: 3,
		ServiceName:                 "lab-appointments",
		OutboxSweepAge:              2 * time.Minute,
		OutboxSweepMaxRecords:       200,
	}
	with := func(f func(*Config)) Config {
		c := defaults
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings that must all appear in the error
	}{
		{name: "empty environment gives defaults", env: nil, want: defaults},
		{
			name: "every variable set",
			env: map[string]string{
				"TABLE_NAME":                      "appointments",
				"ENVIRONMENT":                     "prod",
				"LOG_LEVEL":                       "DEBUG",
				"IDEMPOTENCY_TTL_HOURS":           "48",
				"MAX_BODY_BYTES":                  "1024",
				"MAX_ACTIVE_BOOKINGS_PER_PATIENT": "5",
				"CORS_ALLOWED_ORIGINS":            " https://App.Example.com , http://localhost:3000/ ,,",
				"SERVICE_NAME":                    "appointments-api",
				"AWS_LAMBDA_FUNCTION_NAME":        "book-fn",
				"NOTIFICATIONS_QUEUE_URL":         "https://sqs.ap-southeast-1.amazonaws.com/123456789012/notifications",
				"APPOINTMENT_EVENTS_QUEUE_URL":    "http://127.0.0.1:9324/000000000000/appointment-events",
				"OUTBOX_SWEEP_AGE_SECONDS":        "300",
				"OUTBOX_SWEEP_MAX_RECORDS":        "50",
			},
			want: Config{
				TableName:                   "appointments",
				Environment:                 "prod",
				LogLevel:                    slog.LevelDebug,
				IdempotencyTTL:              48 * time.Hour,
				MaxBodyBytes:                1024,
				MaxActiveBookingsPerPatient: 5,
				CORSAllowedOrigins:          []string{"https://app.example.com", "http://localhost:3000"},
				ServiceName:                 "appointments-api",
				NotificationsQueueURL:       "https://sqs.ap-southeast-1.amazonaws.com/123456789012/notifications",
				AppointmentEventsQueueURL:   "http://127.0.0.1:9324/000000000000/appointment-events",
				OutboxSweepAge:              5 * time.Minute,
				OutboxSweepMaxRecords:       50,
			},
		},
		{
			name: "service name falls back to the function name",
			env:  map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "book-fn"},
			want: with(func(c *Config) { c.ServiceName = "book-fn" }),
		},
		{
			name: "OTEL_SERVICE_NAME wins over the function name",
			env:  map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "book-fn", "OTEL_SERVICE_NAME": "lab-appointments-otel"},
			want: with(func(c *Config) { c.ServiceName = "lab-appointments-otel" }),
		},
		{
			name: "blank values count as unset",
			env:  map[string]string{"ENVIRONMENT": "  ", "LOG_LEVEL": "", "MAX_BODY_BYTES": " "},
			want: defaults,
		},
		{
			name: "warning is a level alias",
			env:  map[string]string{"LOG_LEVEL": "warning"},
			want: with(func(c *Config) { c.LogLevel = slog.LevelWarn }),
		},
		{
			name: "wildcard origin",
			env:  map[string]string{"CORS_ALLOWED_ORIGINS": "*"},
			want: with(func(c *Config) { c.CORSAllowedOrigins = []string{"*"} }),
		},
		{name: "unknown log level", env: map[string]string{"LOG_LEVEL": "verbose"}, wantErr: []string{"LOG_LEVEL", "debug, info, warn, error"}},
		{name: "ttl below the minimum", env: map[string]string{"IDEMPOTENCY_TTL_HOURS": "12"}, wantErr: []string{"IDEMPOTENCY_TTL_HOURS", "at least 24"}},
		{name: "ttl not a number", env: map[string]string{"IDEMPOTENCY_TTL_HOURS": "1d"}, wantErr: []string{"IDEMPOTENCY_TTL_HOURS", "whole number"}},
		{name: "ttl absurdly long", env: map[string]string{"IDEMPOTENCY_TTL_HOURS": "100000"}, wantErr: []string{"IDEMPOTENCY_TTL_HOURS", "at most"}},
		{name: "body limit zero", env: map[string]string{"MAX_BODY_BYTES": "0"}, wantErr: []string{"MAX_BODY_BYTES", "between 1 and"}},
		{name: "body limit over the lambda payload", env: map[string]string{"MAX_BODY_BYTES": "7000000"}, wantErr: []string{"MAX_BODY_BYTES"}},
		{name: "body limit not a number", env: map[string]string{"MAX_BODY_BYTES": "64k"}, wantErr: []string{"MAX_BODY_BYTES", "whole number"}},
		{name: "bookings zero", env: map[string]string{"MAX_ACTIVE_BOOKINGS_PER_PATIENT": "0"}, wantErr: []string{"MAX_ACTIVE_BOOKINGS_PER_PATIENT"}},
		{name: "bookings not a number", env: map[string]string{"MAX_ACTIVE_BOOKINGS_PER_PATIENT": "three"}, wantErr: []string{"MAX_ACTIVE_BOOKINGS_PER_PATIENT"}},
		{name: "origin without scheme", env: map[string]string{"CORS_ALLOWED_ORIGINS": "app.example.com"}, wantErr: []string{"CORS_ALLOWED_ORIGINS", "app.example.com"}},
		{name: "origin with a path", env: map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/login"}, wantErr: []string{"CORS_ALLOWED_ORIGINS"}},
		{name: "queue url without scheme", env: map[string]string{"NOTIFICATIONS_QUEUE_URL": "notifications"}, wantErr: []string{"NOTIFICATIONS_QUEUE_URL", "queue URL"}},
		{name: "queue url not http", env: map[string]string{"APPOINTMENT_EVENTS_QUEUE_URL": "arn:aws:sqs:ap-southeast-1:123456789012:events"}, wantErr: []string{"APPOINTMENT_EVENTS_QUEUE_URL"}},
		{name: "sweep age too short", env: map[string]string{"OUTBOX_SWEEP_AGE_SECONDS": "5"}, wantErr: []string{"OUTBOX_SWEEP_AGE_SECONDS", "between 30 and"}},
		{name: "sweep age not a number", env: map[string]string{"OUTBOX_SWEEP_AGE_SECONDS": "2m"}, wantErr: []string{"OUTBOX_SWEEP_AGE_SECONDS", "whole number"}},
		{name: "sweep records zero", env: map[string]string{"OUTBOX_SWEEP_MAX_RECORDS": "0"}, wantErr: []string{"OUTBOX_SWEEP_MAX_RECORDS", "between 1 and"}},
		{
			name:    "every bad variable is reported at once",
			env:     map[string]string{"LOG_LEVEL": "loud", "IDEMPOTENCY_TTL_HOURS": "1", "MAX_BODY_BYTES": "-5"},
			wantErr: []string{"LOG_LEVEL", "IDEMPOTENCY_TTL_HOURS", "MAX_BODY_BYTES"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadFrom(lookupIn(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("LoadFrom() = %+v, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadFrom() error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadFrom() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestLoadReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("TABLE_NAME", "from-env")
	t.Setenv("LOG_LEVEL", "error")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "from-env" || c.LogLevel != slog.LevelError {
		t.Errorf("Load() = %+v", c)
	}
}

func TestRequireTable(t *testing.T) {
	if err := (Config{}).RequireTable(); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("RequireTable() on an empty config = %v, want an error naming TABLE_NAME", err)
	}
	if err := (Config{TableName: "t"}).RequireTable(); err != nil {
		t.Errorf("RequireTable() = %v, want nil", err)
	}
}

func TestRequireQueues(t *testing.T) {
	err := (Config{}).RequireQueues()
	if err == nil || !strings.Contains(err.Error(), "NOTIFICATIONS_QUEUE_URL") || !strings.Contains(err.Error(), "APPOINTMENT_EVENTS_QUEUE_URL") {
		t.Errorf("RequireQueues() on an empty config = %v, want an error naming both variables", err)
	}
	if err := (Config{NotificationsQueueURL: "https://q/1", AppointmentEventsQueueURL: "https://q/2"}).RequireQueues(); err != nil {
		t.Errorf("RequireQueues() = %v, want nil", err)
	}
}

func TestConsumerQueues(t *testing.T) {
	if err := (Config{}).RequireDeadLetterQueue(); err == nil || !strings.Contains(err.Error(), "DEAD_LETTER_QUEUE_URL") {
		t.Errorf("RequireDeadLetterQueue() on an empty config = %v, want an error naming the variable", err)
	}
	if err := (Config{}).RequireCheckupWorkQueue(); err == nil || !strings.Contains(err.Error(), "CHECKUP_WORK_QUEUE_URL") {
		t.Errorf("RequireCheckupWorkQueue() on an empty config = %v, want an error naming the variable", err)
	}
	env := map[string]string{"DEAD_LETTER_QUEUE_URL": "http://localhost:9324/000000000000/dlq", "CHECKUP_WORK_QUEUE_URL": "https://sqs.ap-southeast-1.amazonaws.com/1/work"}
	c, err := LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.DeadLetterQueueURL != env["DEAD_LETTER_QUEUE_URL"] || c.CheckupWorkQueueURL != env["CHECKUP_WORK_QUEUE_URL"] ||
		c.RequireDeadLetterQueue() != nil || c.RequireCheckupWorkQueue() != nil {
		t.Errorf("LoadFrom = %+v", c)
	}
	for _, name := range []string{"DEAD_LETTER_QUEUE_URL", "CHECKUP_WORK_QUEUE_URL"} {
		_, err := LoadFrom(func(k string) (string, bool) { return "not a url", k == name })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=not a url: err = %v, want an error naming it", name, err)
		}
	}
}

func TestAllowsOrigin(t *testing.T) {
	c := Config{CORSAllowedOrigins: []string{"https://app.example.com"}}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"HTTPS://APP.EXAMPLE.COM", true},
		{"https://evil.example.com", false},
		{"http://app.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := c.AllowsOrigin(tt.origin); got != tt.want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
	if !(Config{CORSAllowedOrigins: []string{"*"}}).AllowsOrigin("https://any.example") {
		t.Error(`"*" must allow any origin`)
	}
	if (Config{}).AllowsOrigin("https://app.example.com") {
		t.Error("no configured origins must allow none")
	}
}
