package awssdk

import (
	"context"
	"errors"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/labchain/appointments/shared/lambdakit"
)

// TestCallBecomesSpan: a DynamoDB call through a loaded configuration is one
// client span named after the operation, with the call's attributes, and the
// request carries the trace context.
func TestCallBecomesSpan(t *testing.T) {
	var traceparent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent = r.Header.Get("traceparent")
		w.Header().Set("x-amzn-RequestId", "req-1")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		body := []byte(`{"Count":2,"ScannedCount":3,"Items":[]}`)
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	cfg, err := Load(context.Background(), tp, lambdakit.Propagator())
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("t").Start(context.Background(), "parent")
	_, err = dynamodb.NewFromConfig(cfg).Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Booking"), IndexName: aws.String("GSI1"), ConsistentRead: aws.Bool(false)})
	parent.End()
	if err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want the call and its parent", len(spans))
	}
	call := spans[0]
	if call.Name != "DynamoDB.Query" || call.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q with parent %s, want DynamoDB.Query under the parent", call.Name, call.Parent.SpanID())
	}
	got := map[attribute.Key]string{}
	for _, kv := range call.Attributes {
		got[kv.Key] = kv.Value.String()
	}
	for k, v := range map[attribute.Key]string{
		"rpc.system.name": "aws-api", "rpc.method": "DynamoDB/Query", "aws.region": "ap-southeast-1", "aws.request_id": "req-1",
		"http.response.status_code": "200", "db.system.name": "aws.dynamodb", "aws.dynamodb.table_names": `["Booking"]`,
		"aws.dynamodb.index_name": "GSI1", "aws.dynamodb.consistent_read": "false", "aws.dynamodb.count": "2", "aws.dynamodb.scanned_count": "3",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if want := parent.SpanContext().TraceID().String(); traceparent == "" || traceparent[3:35] != want {
		t.Errorf("traceparent %q does not carry trace %s", traceparent, want)
	}
}

// TestAttributesAreAllowed builds the attributes the middleware sets, so a key
// the span redaction would drop (lambdakit.AllowedSpanAttribute) fails here
// instead of silently vanishing in production.
func TestAttributesAreAllowed(t *testing.T) {
	attrs := []attribute.KeyValue{semconv.RPCSystemNameKey.String("aws-api"), semconv.RPCMethod(method("DynamoDB", "Query")),
		RegionKey.String("ap-southeast-1"), RequestIDKey.String("r"), semconv.HTTPResponseStatusCode(200), semconv.ErrorType(errors.New("x"))}
	attrs = append(attrs, Attributes(dynamodb.ServiceID, &dynamodb.QueryInput{
		TableName: aws.String("Booking"), IndexName: aws.String("GSI1"), ConsistentRead: aws.Bool(true),
		Limit: aws.Int32(10), ScanIndexForward: aws.Bool(false), ProjectionExpression: aws.String("pk, sk"), Select: "ALL_ATTRIBUTES",
	}, &dynamodb.QueryOutput{Count: 1, ScannedCount: 2})...)
	attrs = append(attrs, Attributes(dynamodb.ServiceID, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Booking": nil}}, nil)...)
	sqsAttrs := Attributes(sqs.ServiceID, &sqs.SendMessageInput{QueueUrl: aws.String("http://127.0.0.1:9324/000000000000/q"), MessageBody: aws.String(`{"phone":"x"}`)}, nil)
	if len(sqsAttrs) != 2 || sqsAttrs[1].Value.AsString() != "http://127.0.0.1:9324/000000000000/q" {
		t.Errorf("SQS attributes = %v, want the system and the queue URL", sqsAttrs)
	}
	attrs = append(attrs, sqsAttrs...)
	for _, kv := range attrs {
		if !lambdakit.AllowedSpanAttribute(kv.Key) {
			t.Errorf("%s is set on AWS call spans but not allowed", kv.Key)
		}
		if kv.Value.String() == `{"phone":"x"}` {
			t.Errorf("%s carries the message body", kv.Key)
		}
	}
	if len(attrs) < 15 {
		t.Errorf("only %d attributes built: %v", len(attrs), attrs)
	}
}
