package streamevent

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

func TestRecordRoundTripsThroughLambdaJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 700e6, time.UTC)
	r := stypes.Record{
		EventID: aws.String("e1"), EventName: stypes.OperationTypeInsert,
		Dynamodb: &stypes.StreamRecord{
			Keys: map[string]stypes.AttributeValue{"PK": &stypes.AttributeValueMemberS{Value: "OUTBOX#1"}},
			NewImage: map[string]stypes.AttributeValue{
				"n":    &stypes.AttributeValueMemberN{Value: "42"},
				"ok":   &stypes.AttributeValueMemberBOOL{Value: true},
				"list": &stypes.AttributeValueMemberL{Value: []stypes.AttributeValue{&stypes.AttributeValueMemberS{Value: "a"}}},
				"map":  &stypes.AttributeValueMemberM{Value: map[string]stypes.AttributeValue{"b": &stypes.AttributeValueMemberB{Value: []byte{1, 2}}}},
				"ss":   &stypes.AttributeValueMemberSS{Value: []string{"x", "y"}},
				"nul":  &stypes.AttributeValueMemberNULL{Value: true},
			},
			SequenceNumber: aws.String("100"), SizeBytes: aws.Int64(64), StreamViewType: stypes.StreamViewTypeNewAndOldImages,
			ApproximateCreationDateTime: &at,
		},
	}
	got := Record(r, "arn:stream", "ap-southeast-1")
	b, err := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{got}})
	if err != nil {
		t.Fatal(err)
	}
	var back events.DynamoDBEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rec := back.Records[0]
	img := rec.Change.NewImage
	if rec.EventName != "INSERT" || rec.EventVersion != "1.1" || rec.EventSource != "aws:dynamodb" || rec.AWSRegion != "ap-southeast-1" ||
		rec.Change.Keys["PK"].String() != "OUTBOX#1" || rec.Change.SequenceNumber != "100" ||
		img["n"].Number() != "42" || !img["ok"].Boolean() || img["list"].List()[0].String() != "a" ||
		string(img["map"].Map()["b"].Binary()) != "\x01\x02" || len(img["ss"].StringSet()) != 2 || !img["nul"].IsNull() ||
		!rec.Change.ApproximateCreationDateTime.Equal(at.Truncate(time.Second)) {
		t.Fatalf("record = %+v", rec)
	}
	if Record(stypes.Record{}, "a", "r").Change.NewImage != nil {
		t.Fatal("a record without images must have nil images")
	}
}
