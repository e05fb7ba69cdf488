// Command hello is the baseline of BenchmarkColdStart: the smallest
// aws-lambda-go function (decode the event, answer), built with the same
// flags as the project's functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "body": "hello"}, nil
	})
}
