package devbench

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var (
	bareOnce sync.Once
	bareName string
	bareErr  error
)

// bareTable creates, once, a table in the platform's DynamoDB Local with the
// application table's keys and indexes but no stream (nothing of the event
// pipeline reacts to the baseline's writes).
func bareTable(b *testing.B, ctx context.Context, db *dynamodb.Client) string {
	b.Helper()
	bareOnce.Do(func() {
		tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			bareErr = err
			return
		}
		var app *types.TableDescription
		for _, name := range tables.TableNames {
			d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				bareErr = err
				return
			}
			if len(d.Table.GlobalSecondaryIndexes) > 0 && name != "devbench-bare" && app == nil {
				app = d.Table
			}
		}
		if app == nil {
			bareErr = errors.New("no table with indexes in the platform's DynamoDB")
			return
		}
		in := &dynamodb.CreateTableInput{TableName: aws.String("devbench-bare"), KeySchema: app.KeySchema,
			AttributeDefinitions: app.AttributeDefinitions, BillingMode: types.BillingModePayPerRequest}
		for _, g := range app.GlobalSecondaryIndexes {
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
		}
		if _, bareErr = db.CreateTable(ctx, in); bareErr == nil {
			bareName = "devbench-bare"
		}
	})
	if bareErr != nil {
		b.Fatal(bareErr)
	}
	return bareName
}

// bareTransaction writes 4 new items, each under attribute_not_exists, the
// shape of a booking's cell, appointment, counter and idempotency writes.
func bareTransaction(ctx context.Context, db *dynamodb.Client, table string, n int64) error {
	pk := "BARE#" + strconv.FormatInt(n, 10)
	var items []types.TransactWriteItem
	for i, sk := range []string{"CELL", "APPT", "COUNT", "IDEM"} {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: pk + "#" + strconv.Itoa(i)}, "SK": &types.AttributeValueMemberS{Value: sk},
				"GSI1PK": &types.AttributeValueMemberS{Value: "BARE"}, "GSI1SK": &types.AttributeValueMemberS{Value: pk},
				"payload": &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)}},
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
