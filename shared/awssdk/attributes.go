package awssdk

import (
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attributes returns the service-specific span attributes of one AWS call
// (in and out are the operation's input and output): for DynamoDB the table,
// index and read options and the counts of a query (structure, never keys or
// values); for SQS the queue URL as server.address. Other services get none.
//
// SQS inputs are read by field name, so this package links the DynamoDB
// client (every function that loads an AWS configuration uses it) but not the
// SQS client.
func Attributes(service string, in, out any) []attribute.KeyValue {
	switch service {
	case dynamodb.ServiceID:
		return dynamoDBAttributes(in, out)
	case "SQS":
		attrs := []attribute.KeyValue{semconv.MessagingSystemAWSSQS}
		if url, ok := stringField(in, "QueueUrl"); ok {
			attrs = append(attrs, semconv.ServerAddress(url))
		}
		return attrs
	}
	return nil
}

func dynamoDBAttributes(in, out any) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.DBSystemNameAWSDynamoDB}
	table := func(name *string) {
		if name != nil {
			attrs = append(attrs, semconv.AWSDynamoDBTableNames(*name))
		}
	}
	reads := func(consistent *bool, index, projection *string, limit *int32) {
		if consistent != nil {
			attrs = append(attrs, semconv.AWSDynamoDBConsistentRead(*consistent))
		}
		if index != nil {
			attrs = append(attrs, semconv.AWSDynamoDBIndexName(*index))
		}
		if limit != nil {
			attrs = append(attrs, semconv.AWSDynamoDBLimit(int(*limit)))
		}
		if projection != nil {
			attrs = append(attrs, semconv.AWSDynamoDBProjection(*projection))
		}
	}
	switch v := in.(type) {
	case *dynamodb.GetItemInput:
		table(v.TableName)
		reads(v.ConsistentRead, nil, v.ProjectionExpression, nil)
	case *dynamodb.PutItemInput:
		table(v.TableName)
	case *dynamodb.UpdateItemInput:
		table(v.TableName)
	case *dynamodb.DeleteItemInput:
		table(v.TableName)
	case *dynamodb.DescribeTableInput:
		table(v.TableName)
	case *dynamodb.BatchGetItemInput:
		attrs = append(attrs, semconv.AWSDynamoDBTableNames(keys(v.RequestItems)...))
	case *dynamodb.BatchWriteItemInput:
		attrs = append(attrs, semconv.AWSDynamoDBTableNames(keys(v.RequestItems)...))
	case *dynamodb.QueryInput:
		table(v.TableName)
		reads(v.ConsistentRead, v.IndexName, v.ProjectionExpression, v.Limit)
		if v.ScanIndexForward != nil {
			attrs = append(attrs, semconv.AWSDynamoDBScanForward(*v.ScanIndexForward))
		}
		attrs = append(attrs, semconv.AWSDynamoDBSelect(string(v.Select)))
	case *dynamodb.ScanInput:
		table(v.TableName)
		reads(v.ConsistentRead, v.IndexName, v.ProjectionExpression, v.Limit)
		attrs = append(attrs, semconv.AWSDynamoDBSelect(string(v.Select)))
		if v.Segment != nil {
			attrs = append(attrs, semconv.AWSDynamoDBSegment(int(*v.Segment)))
		}
		if v.TotalSegments != nil {
			attrs = append(attrs, semconv.AWSDynamoDBTotalSegments(int(*v.TotalSegments)))
		}
	}
	switch v := out.(type) {
	case *dynamodb.QueryOutput:
		attrs = append(attrs, semconv.AWSDynamoDBCount(int(v.Count)), semconv.AWSDynamoDBScannedCount(int(v.ScannedCount)))
	case *dynamodb.ScanOutput:
		attrs = append(attrs, semconv.AWSDynamoDBCount(int(v.Count)), semconv.AWSDynamoDBScannedCount(int(v.ScannedCount)))
	}
	return attrs
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// stringField returns the *string field name of the struct v points to.
func stringField(v any, name string) (string, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return "", false
	}
	f := rv.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return "", false
	}
	return f.Elem().String(), true
}
