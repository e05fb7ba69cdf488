// Command migrate runs the data migrations a deploy may need, once, after
// the code that needs them is deployed (each is idempotent and safe beside
// live traffic):
//
//   - IndexCells: GSI1 range keys on cell items written before cells carried
//     them (availability in one Query);
//   - IndexPatientVisits: the patients' visit sets (the exact cap on upcoming
//     visits) for visits booked before the sets existed.
//
// For every branch it covers the branch-local dates from today to today +
// -days (past visits never count and past cells are never shown):
//
//	go run ./infra/cmd/migrate -table <name> [-endpoint URL] [-region R] [-days N]
//
// With -endpoint (DynamoDB Local) static dummy credentials are used; without
// it, the SDK's configuration reaches AWS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
)

func main() {
	table := flag.String("table", "", "DynamoDB table name (required)")
	endpoint := flag.String("endpoint", "", "DynamoDB endpoint, e.g. http://127.0.0.1:8000 (default: AWS)")
	region := flag.String("region", "", "AWS region (default: the SDK's configuration; us-east-1 with -endpoint)")
	days := flag.Int("days", 366, "how many days from today to cover")
	flag.Parse()
	if *table == "" || *days < 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	client, err := newClient(ctx, *endpoint, *region)
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
	if err := run(ctx, dynamo.New(client, *table), time.Now(), *days, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

// run migrates every branch of s over its local dates today .. today+days-1,
// reporting per branch what it wrote.
func run(ctx context.Context, s *dynamo.Store, now time.Time, days int, out io.Writer) error {
	branches, err := s.ListBranches(ctx)
	if err != nil {
		return err
	}
	for _, b := range branches {
		loc, err := domain.LoadLocation(b.TimeZone)
		if err != nil {
			return fmt.Errorf("branch %s: %w", b.ID, err)
		}
		today := now.In(loc)
		dates := make([]string, days)
		for i := range dates {
			dates[i] = today.AddDate(0, 0, i).Format(time.DateOnly)
		}
		cells, err := s.IndexCells(ctx, b.ID, dates)
		if err != nil {
			return fmt.Errorf("branch %s: cells: %w", b.ID, err)
		}
		visits, err := s.IndexPatientVisits(ctx, b.ID, dates)
		if err != nil {
			return fmt.Errorf("branch %s: patient visits: %w", b.ID, err)
		}
		fmt.Fprintf(out, "%s: %d cells indexed, %d visits added to patients' sets\n", b.ID, cells, visits)
	}
	return nil
}

func newClient(ctx context.Context, endpoint, region string) (*dynamodb.Client, error) {
	if endpoint != "" {
		if region == "" {
			region = "us-east-1"
		}
		return dynamodb.New(dynamodb.Options{
			Region:       region,
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(endpoint),
		}), nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}
