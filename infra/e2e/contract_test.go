package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/events/eventcontract"
)

// The outbound event contract (docs/contracts/events): every event the
// flows of this package make is checked against it twice: each message a
// test reads from AppointmentEventsQueue (collect), and, after the run,
// every outbox record left in the table (emittedEventProblems, called by
// run), which includes the events routed only to NotificationsQueue.

var (
	contractOnce sync.Once
	contract     *eventcontract.Contract
	contractErr  error
)

func eventContract() (*eventcontract.Contract, error) {
	contractOnce.Do(func() {
		contract, contractErr = eventcontract.Load(filepath.Join("..", "..", "docs", "contracts", "events"))
	})
	return contract, contractErr
}

// emittedEventProblems validates the CloudEvent of every outbox record in
// the platform's tables against the schema of its type (closed schemas: a
// personal member fails). It returns one line per problem and how many
// records it checked.
func emittedEventProblems(ctx context.Context, p interface{ DynamoEndpoint() string }) (problems []string, checked int, err error) {
	c, err := eventContract()
	if err != nil {
		return nil, 0, err
	}
	db := dynamolocal.NewClient(p.DynamoEndpoint())
	tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		return nil, 0, err
	}
	for _, table := range tables.TableNames {
		pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, checked, err
			}
			for _, item := range page.Items {
				ce, isOutbox, err := dynamo.OutboxEventFromStreamImage(streamImage(item))
				if !isOutbox {
					continue
				}
				checked++
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				body, err := events.Encode(ce)
				if err == nil {
					err = c.Validate(body)
				}
				if err != nil {
					problems = append(problems, fmt.Sprintf("outbox record %s (%s): %v", ce.ID, ce.Type, err))
				}
			}
		}
	}
	return problems, checked, nil
}

// streamImage converts the string attributes of an item to a stream image
// (what dynamo.OutboxEventFromStreamImage reads); the others are not needed.
func streamImage(item map[string]types.AttributeValue) map[string]lambdaevents.DynamoDBAttributeValue {
	out := map[string]lambdaevents.DynamoDBAttributeValue{}
	for k, v := range item {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out[k] = lambdaevents.NewStringAttribute(s.Value)
		}
	}
	return out
}
