package awssdk

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestLoadFromLambdaEnvironment: region and role credentials (with the
// session token) come from the runtime's variables; endpoint overrides reach
// the client as the SDK's own loader would pass them.
func TestLoadFromLambdaEnvironment(t *testing.T) {
	lambda := map[string]string{"AWS_REGION": "ap-southeast-1", "AWS_ACCESS_KEY_ID": "ASIAX",
		"AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	cfg, err := fromEnv(env(lambda))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "ap-southeast-1" || creds.AccessKeyID != "ASIAX" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Fatalf("region %q creds %+v err %v", cfg.Region, creds, err)
	}
	if ep := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; ep != nil {
		t.Errorf("endpoint %q without any override", *ep)
	}

	for _, c := range []struct {
		name string
		set  map[string]string
		want string // "" = no override
	}{
		{"service", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, "http://127.0.0.1:8000"},
		{"global", map[string]string{"AWS_ENDPOINT_URL": "http://localstack:4566"}, "http://localstack:4566"},
		{"service over global", map[string]string{"AWS_ENDPOINT_URL": "http://g", "AWS_ENDPOINT_URL_DYNAMODB": "http://s"}, "http://s"},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://s", "AWS_ENDPOINT_URL": "http://g", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
	} {
		m := map[string]string{}
		for k, v := range lambda {
			m[k] = v
		}
		for k, v := range c.set {
			m[k] = v
		}
		for k, v := range m {
			t.Setenv(k, v) // the client also looks at the process environment
		}
		cfg, err := fromEnv(env(m))
		if err != nil {
			t.Fatal(err)
		}
		ep := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint
		if got := ""; ep != nil {
			got = *ep
			if got != c.want {
				t.Errorf("%s: endpoint %q, want %q", c.name, got, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%s: no endpoint, want %q", c.name, c.want)
		}
		for k := range c.set {
			t.Setenv(k, "")
		}
	}

	m := map[string]string{"AWS_MAX_ATTEMPTS": "7"}
	for k, v := range lambda {
		m[k] = v
	}
	cfg, err = fromEnv(env(m))
	if err != nil || cfg.Retryer == nil || cfg.Retryer().MaxAttempts() != 7 {
		t.Errorf("AWS_MAX_ATTEMPTS=7 not applied (err %v)", err)
	}
}

// TestLoadFailsWithoutLambdaEnvironment: a function started without its
// credentials or region fails its cold start naming what is missing.
func TestLoadFailsWithoutLambdaEnvironment(t *testing.T) {
	_, err := fromEnv(env(map[string]string{"AWS_ACCESS_KEY_ID": "x"}))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION, AWS_SECRET_ACCESS_KEY not set") {
		t.Fatalf("err %v, want the missing variables named", err)
	}
	_, err = fromEnv(env(map[string]string{"AWS_REGION": "r", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "zero"}))
	if err == nil {
		t.Fatal("AWS_MAX_ATTEMPTS=zero accepted")
	}
}
