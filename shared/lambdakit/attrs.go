package lambdakit

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Span attribute keys of our own. Spans carry ids and kinds, never personal
// data: a key that is not listed in the allowlist (see AllowedSpanAttribute) is
// dropped before export, so a new key must be added there to be seen.
const (
	// AttrAppointmentID is the appointment's id.
	AttrAppointmentID = attribute.Key("app.appointment_id")
	// AttrBranchID is the branch's id.
	AttrBranchID = attribute.Key("app.branch_id")
	// AttrEventType is the type of a domain event (for example
	// "appointment.booked").
	AttrEventType = attribute.Key("app.event_type")
	// AttrConsumer is the name of an SQS consumer.
	AttrConsumer = attribute.Key("app.consumer")
	// AttrNotificationKind is the kind of a notification (reminder,
	// confirmation, ...).
	AttrNotificationKind = attribute.Key("app.notification.kind")
	// AttrNotificationChannel is a notification's channel (email, sms, push).
	AttrNotificationChannel = attribute.Key("app.notification.channel")
	// AttrNotificationStatus is a notification delivery's status.
	AttrNotificationStatus = attribute.Key("app.notification.status")
	// AttrNotificationAttempt is the number of a provider call of one
	// delivery (1 for the first).
	AttrNotificationAttempt = attribute.Key("app.notification.attempt")
	// AttrErrorCode is the apperr code of a recorded error; Tracing puts it on
	// the "exception" event in place of the error text.
	AttrErrorCode = attribute.Key("app.error.code")
)

// allowedKeys are the span, event and link attribute keys that are exported.
// They are the semantic-convention keys our instrumentation emits that hold no
// personal data (otellambda, shared/awssdk with its DynamoDB and SQS attributes, the
// HTTP and consumer code in shared/), and our own app.* keys. Left out on
// purpose, among others: exception.message (error text may quote input),
// url.full and url.query (tokens), client.address and user_agent.original
// (personal under PDPA), http.request.body / header.* / rpc.*.metadata.*
// (payloads and headers), enduser.*, aws.dynamodb.item_collection_metrics
// (holds item keys), the outbox's free-text "error" event attribute.
var allowedKeys = map[attribute.Key]struct{}{
	// otellambda: the invocation span.
	"faas.invocation_id":     {},
	"faas.trigger":           {},
	"faas.coldstart":         {},
	"faas.name":              {},
	"faas.version":           {},
	"faas.instance":          {},
	"faas.max_memory":        {},
	"faas.time":              {},
	"faas.cron":              {},
	"aws.lambda.invoked_arn": {},

	// shared/awssdk: every AWS SDK call.
	"rpc.system":                {},
	"rpc.system.name":           {},
	"rpc.method":                {},
	"rpc.service":               {},
	"rpc.response.status_code":  {},
	"aws.region":                {},
	"aws.request_id":            {},
	"server.address":            {},
	"server.port":               {},
	"http.response.status_code": {},
	"error.type":                {},
	// shared/awssdk: DynamoDB (structure only: tables, indexes, options, counts).
	"db.system":                          {},
	"db.system.name":                     {},
	"db.operation.name":                  {},
	"db.collection.name":                 {},
	"aws.dynamodb.table_names":           {},
	"aws.dynamodb.table_count":           {},
	"aws.dynamodb.index_name":            {},
	"aws.dynamodb.consistent_read":       {},
	"aws.dynamodb.limit":                 {},
	"aws.dynamodb.select":                {},
	"aws.dynamodb.scan_forward":          {},
	"aws.dynamodb.projection":            {},
	"aws.dynamodb.segment":               {},
	"aws.dynamodb.total_segments":        {},
	"aws.dynamodb.count":                 {},
	"aws.dynamodb.scanned_count":         {},
	"aws.dynamodb.exclusive_start_table": {},

	// HTTP API (shared/httpapi).
	"http.request.method":      {},
	"http.route":               {},
	"url.scheme":               {},
	"network.protocol.name":    {},
	"network.protocol.version": {},

	// Messaging: shared/awssdk SQS, shared/consumer, the outbox publisher.
	"messaging.system":               {},
	"messaging.operation.type":       {},
	"messaging.operation.name":       {},
	"messaging.message.id":           {},
	"messaging.consumer.group.name":  {},
	"messaging.destination.name":     {},
	"messaging.batch.message_count":  {},
	"cloudevents.event_id":           {},
	"cloudevents.event_type":         {},
	"cloudevents.event_subject":      {},
	"cloudevents.event_source":       {},
	"cloudevents.event_spec_version": {},
	"outcome":                        {}, // shared/consumer: the record's outcome
	"link.kind":                      {}, // shared/consumer: on links

	// The "exception" event of span.RecordError: the type and stack, not the
	// message (see AttrErrorCode).
	"exception.type":       {},
	"exception.escaped":    {},
	"exception.stacktrace": {},

	// Ours.
	AttrAppointmentID:       {},
	AttrBranchID:            {},
	AttrEventType:           {},
	AttrConsumer:            {},
	AttrNotificationKind:    {},
	AttrNotificationChannel: {},
	AttrNotificationStatus:  {},
	AttrNotificationAttempt: {},
	AttrErrorCode:           {},
}

// allowedPrefixes are namespaces whose every key is allowed: cloud.* holds the
// provider, region, account and resource ids only.
var allowedPrefixes = []string{"cloud."}

// AllowedSpanAttribute reports whether spans may carry the attribute key k:
// an exact key of the allowlist or a key under an allowed namespace (cloud.*).
// RedactSpans drops every other key from spans, span events and links.
func AllowedSpanAttribute(k attribute.Key) bool {
	if _, ok := allowedKeys[k]; ok {
		return true
	}
	for _, p := range allowedPrefixes {
		if strings.HasPrefix(string(k), p) {
			return true
		}
	}
	return false
}
