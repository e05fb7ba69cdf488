package faulttest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/faultproxy"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// proxied returns a fault proxy in front of the test binary's DynamoDB
// Local, a client (the SDK's default retryer: 3 attempts) whose endpoint is
// the proxy, and a fresh table.
func proxied(t *testing.T) (*faultproxy.Proxy, *dynamodb.Client, string) {
	t.Helper()
	direct := testenv.DynamoDB(t)
	table := testenv.NewTable(t, direct)
	p, err := faultproxy.Start(aws.ToString(direct.Options().BaseEndpoint))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, dynamolocal.NewClient(p.URL()), table
}

// quietCtx is an invocation context whose logs are discarded.
func quietCtx() context.Context {
	return lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelInfo))
}
