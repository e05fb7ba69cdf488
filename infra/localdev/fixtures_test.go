package localdev

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/sqslocal"
)

// TestEveryFixtureInvokes runs every event of testdata/events the way
// `make invoke FN=<name> EVENT=testdata/events/<name>.json` does (Invoke
// with Seed, over the real template.yaml, each on empty tables as a fresh
// invoke has) and requires a 2xx answer: every id a fixture names exists
// and every date in it is still bookable. A control invocation without
// seeding answers 404, so the seed is what makes them work.
//
// It builds every function and starts aws-lambda-rie for each: run it under
// the heavy lock (flock /work/heavy.lock go test ./infra/localdev -run
// TestEveryFixtureInvokes).
func TestEveryFixtureInvokes(t *testing.T) {
	requireTools(t)
	if time.Now().After(FixtureVisitStart.Add(-48 * time.Hour)) {
		t.Fatalf("the dates of testdata/events (around %s) have passed or are about to: move them forward in events_test.go "+
			"(go test ./infra/localdev -run TestEventFiles -update-events) and FixtureVisitStart", FixtureVisitStart.Format("2006-01-02"))
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events in %s (%v)", eventsDir, err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Options{Root: root}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{Dir: o.DynamoDir, InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Stop()
	sq, err := sqslocal.Start(ctx, sqslocal.Options{Dir: o.SQSDir})
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Stop()
	log := &lockedBuffer{}
	opts := testOptions(log, Options{DynamoEndpoint: ddb.Endpoint(), SQSEndpoint: sq.Endpoint(), Seed: true})
	opts.Root = root
	client := dynamolocal.NewClient(ddb.Endpoint())

	invoke := func(t *testing.T, opts Options, name string, event []byte) (int, string) {
		t.Helper()
		dropTables(ctx, t, client)
		res, err := Invoke(ctx, opts, name, event)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.Tail(4<<10))
		}
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed() {
			t.Fatalf("%s failed: %s (%v)\n%s", name, res.Payload, err, log.Tail(4<<10))
		}
		return resp.StatusCode, resp.Body
	}

	t.Run("control without seeding", func(t *testing.T) {
		event, err := os.ReadFile(filepath.Join(eventsDir, "get-branch.json"))
		if err != nil {
			t.Fatal(err)
		}
		noSeed := opts
		noSeed.Seed = false
		if status, body := invoke(t, noSeed, "get-branch", event); status != 404 {
			t.Fatalf("get-branch without seeding: %d %s, want 404", status, body)
		}
	})
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			event, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if status, body := invoke(t, opts, name, event); status/100 != 2 {
				t.Errorf("make invoke FN=%s EVENT=testdata/events/%s.json answered %d: %s", name, name, status, body)
			}
		})
	}
}

// dropTables deletes every table, so the next Invoke starts from empty
// tables as a fresh `make invoke` does.
func dropTables(ctx context.Context, t *testing.T, c *dynamodb.Client) {
	t.Helper()
	out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range out.TableNames {
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLastOpeningBefore(t *testing.T) {
	for _, tc := range []struct{ at, want string }{
		{"2026-12-07T10:00:00+07:00", "2026-12-07T09:00:00+07:00"}, // Monday after 09:00
		{"2026-12-07T08:00:00+07:00", "2026-12-05T09:00:00+07:00"}, // Monday before 09:00: Saturday
		{"2026-12-06T12:00:00+07:00", "2026-12-05T09:00:00+07:00"}, // Sunday: Saturday
		{"2026-12-06T01:00:00Z", "2026-12-05T09:00:00+07:00"},      // UTC input, Sunday in Bangkok
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := lastOpeningBefore(at).Format(time.RFC3339); got != tc.want {
			t.Errorf("lastOpeningBefore(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}
