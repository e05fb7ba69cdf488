package dynamolocal

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMissingJar(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrNoJar) {
		t.Fatalf("err = %v, want ErrNoJar", err)
	}
}

func TestStartCreateTablesStop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs DynamoDB Local")
	}
	ctx := context.Background()
	begin := time.Now()
	s, err := Start(ctx, Options{})
	if errors.Is(err, ErrNoJar) {
		t.Fatalf("%v: run `make tools` (or `make test`)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	t.Logf("DynamoDB Local answered on %s after %v", s.Endpoint(), time.Since(begin))

	c := s.Client(ctx)
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String("table1"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
	}
	for range 2 { // the second call finds the table and skips it
		if err := CreateTables(ctx, c, []*dynamodb.CreateTableInput{in}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TableNames) != 1 || out.TableNames[0] != "table1" {
		t.Fatalf("tables = %v", out.TableNames)
	}

	pid := s.pid
	s.Stop()
	s.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still there after Stop (kill -0: %v)", pid, err)
	}
}
