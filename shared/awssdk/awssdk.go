// Package awssdk builds the AWS SDK configuration that a function's clients
// share, read from the Lambda runtime's environment only, with a client span
// per AWS call (see AppendTracing).
//
// Why not config.LoadDefaultConfig: in Lambda the credentials of the
// execution role and the region are always in the environment the runtime
// defines (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION; see the Lambda guide, "Defined runtime environment
// variables"), so the default chain's other sources (shared config files,
// SSO, STS web identity, IMDS, container and process credentials) never
// apply; yet linking them initialised the SSO, SSO-OIDC, STS, sign-in and
// IMDS clients at every cold start (~0.7 ms of book-appointment's first
// invocation, issue #10 §6). Load reads exactly what a function relies on:
// those variables, the endpoint overrides of the local platform and of
// LocalStack (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS as the SDK reads them) and
// AWS_MAX_ATTEMPTS; it fails with a clear error when the credentials or the
// region are missing. infra/layercheck keeps the chain out of every function.
// Tests and tools outside functions/ may still use LoadDefaultConfig.
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
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/lambdakit"
)

// Load returns the AWS SDK configuration of the Lambda environment (see the
// package comment) with the tracing middlewares of AppendTracing, whose spans
// go to tp and whose requests carry the trace context through prop.
func Load(ctx context.Context, tp trace.TracerProvider, prop propagation.TextMapPropagator) (aws.Config, error) {
	cfg, err := fromEnv(os.LookupEnv)
	if err != nil {
		return aws.Config{}, err
	}
	AppendTracing(&cfg.APIOptions, tp, prop)
	return cfg, nil
}

// fromEnv builds the configuration from lookup (os.LookupEnv).
func fromEnv(lookup func(string) (string, bool)) (aws.Config, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	var missing []string
	for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("awssdk: %s not set: a function takes its region and credentials from the Lambda runtime's environment", strings.Join(missing, ", "))
	}
	creds := aws.Credentials{AccessKeyID: get("AWS_ACCESS_KEY_ID"), SecretAccessKey: get("AWS_SECRET_ACCESS_KEY"),
		SessionToken: get("AWS_SESSION_TOKEN"), Source: "LambdaEnvironment"}
	cfg := aws.Config{
		Region: get("AWS_REGION"),
		// Static for the life of the execution environment: Lambda starts a
		// new one before the role's session expires.
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
	}
	ends := endpoints{lookup: lookup}
	cfg.ConfigSources = []any{ends}
	if g := get("AWS_ENDPOINT_URL"); g != "" && !ends.ignore() {
		cfg.BaseEndpoint = aws.String(g)
	}
	if s := get("AWS_MAX_ATTEMPTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return aws.Config{}, fmt.Errorf("awssdk: AWS_MAX_ATTEMPTS %q: want a positive integer", s)
		}
		cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), n) }
	}
	return cfg, nil
}

// endpoints is the configuration source the service clients ask for
// AWS_ENDPOINT_URL_<SERVICE> (as config.EnvConfig answers: the service id in
// upper case, spaces as underscores) and for
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
type endpoints struct{ lookup func(string) (string, bool) }

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<sdkID>, if set.
func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, _ := e.lookup("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e endpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, ok := e.lookup("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if !ok || v == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, fmt.Errorf("awssdk: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS %q: %w", v, err)
	}
	return b, true, nil
}

func (e endpoints) ignore() bool {
	b, _, _ := e.GetIgnoreConfiguredEndpoints(context.Background())
	return b
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
