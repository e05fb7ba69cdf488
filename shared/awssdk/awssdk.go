// Package awssdk builds the AWS SDK configuration that a function's clients
// share: config.LoadDefaultConfig (the Lambda environment's region and role
// credentials; AWS_ENDPOINT_URL_DYNAMODB and friends for local runs) with a
// client span per AWS call (see AppendTracing).
//
// It lives outside lambdakit on purpose: only a function that builds an AWS
// client imports it, so the health check links no AWS SDK at all and a
// catalog route links DynamoDB only (issue #10 §6, pinned by infra/layercheck).
// Build the configuration once per cold start (wiring does), never per request.
package awssdk

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/lambdakit"
)

// Load returns the default AWS SDK configuration with the tracing middlewares
// of AppendTracing, whose spans go to tp and whose requests carry the trace
// context through prop.
func Load(ctx context.Context, tp trace.TracerProvider, prop propagation.TextMapPropagator) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awssdk: load AWS configuration: %w", err)
	}
	AppendTracing(&cfg.APIOptions, tp, prop)
	return cfg, nil
}

// MustLoad is Load for a function's cold start: with rt's tracer provider and
// the project's propagators. On failure it logs one error line, flushes the
// tracer provider and exits with status 1, as lambdakit.MustInit does, so a
// misconfigured function fails its cold start visibly. Only wiring calls it.
func MustLoad(rt *lambdakit.Runtime) aws.Config {
	cfg, err := Load(context.Background(), rt.TracerProvider, lambdakit.Propagator())
	if err != nil {
		rt.Logger.Error("cold start failed", lambdakit.FieldFunction, rt.FunctionName, "error", err.Error())
		_ = rt.Shutdown(context.Background())
		os.Exit(1)
	}
	return cfg
}
