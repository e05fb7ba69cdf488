package testenv

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestTableName(t *testing.T) {
	a, b := tableName("TestX/sub case#1"), tableName("TestX/sub case#1")
	if a == b {
		t.Fatalf("names not unique: %s", a)
	}
	if !regexpValid.MatchString(a) {
		t.Fatalf("invalid table name %q", a)
	}
	long := tableName(string(make([]byte, 300)))
	if len(long) > 255 || !regexpValid.MatchString(long) {
		t.Fatalf("invalid table name %q", long)
	}
}

func TestNewTableFromTemplate(t *testing.T) {
	c, name := Table(t)
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Table
	if d.TableStatus != "ACTIVE" || len(d.GlobalSecondaryIndexes) != 2 || len(d.KeySchema) != 2 {
		t.Fatalf("table %s: status %s, %d GSIs, key %v", name, d.TableStatus, len(d.GlobalSecondaryIndexes), d.KeySchema)
	}
	if d.StreamSpecification != nil && aws.ToBool(d.StreamSpecification.StreamEnabled) {
		t.Fatalf("table %s has a stream without WithStream", name)
	}
	_, streamed := Table(t, WithStream())
	out, err = c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(streamed)})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != "NEW_AND_OLD_IMAGES" {
		t.Fatalf("table %s: stream %+v", streamed, s)
	}
	// A second client call reuses the same server.
	if DynamoDB(t) != c {
		t.Fatal("DynamoDB returned another client")
	}
}

var regexpValid = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
