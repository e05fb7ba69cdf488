// Package streamevent turns DynamoDB Streams API records into the records
// Lambda delivers to a stream-triggered function, so the local platform and
// the tests that read a stream by hand build exactly the same events.
package streamevent

import (
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Record converts one stream record of the stream arn in region.
func Record(r stypes.Record, arn, region string) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: arn,
	}
	if out.EventVersion == "" {
		out.EventVersion = "1.1"
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           AttributeMap(d.Keys),
			NewImage:       AttributeMap(d.NewImage),
			OldImage:       AttributeMap(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			// Lambda's event carries whole seconds.
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: d.ApproximateCreationDateTime.Truncate(time.Second)}
		}
	}
	return out
}

// AttributeMap converts an item image (nil stays nil).
func AttributeMap(in map[string]stypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if in == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(in))
	for k, v := range in {
		out[k] = AttributeValue(v)
	}
	return out
}

// AttributeValue converts one attribute value; an unknown kind becomes NULL.
func AttributeValue(v stypes.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *stypes.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *stypes.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *stypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *stypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *stypes.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *stypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *stypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *stypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *stypes.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			list[i] = AttributeValue(e)
		}
		return events.NewListAttribute(list)
	case *stypes.AttributeValueMemberM:
		return events.NewMapAttribute(AttributeMap(x.Value))
	}
	return events.NewNullAttribute()
}
