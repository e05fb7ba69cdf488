package layercheck

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRules: the repository keeps its layering and its lean functions.
func TestRules(t *testing.T) {
	fns, err := Functions(filepath.Join("..", ".."))
	if err != nil || len(fns) == 0 {
		t.Fatalf("functions: %v %v", fns, err)
	}
	rules := append(append([]Rule(nil), Rules...), FunctionRules(fns)...)
	var patterns []string
	for _, r := range rules {
		patterns = append(patterns, "./"+r.Package)
	}
	deps, err := Deps(filepath.Join("..", ".."), patterns...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Check(rules, deps) {
		t.Error(v)
	}
	// Positive control on the real graph: a function that sends messages
	// does link what the lean ones must not, so the rule can see it.
	deps, err = Deps(filepath.Join("..", ".."), "./functions/notification-consumer")
	if err != nil {
		t.Fatal(err)
	}
	got := Check([]Rule{{Package: "functions/notification-consumer", Forbidden: NotLean}}, deps)
	if len(got) == 0 {
		t.Error("notification-consumer links none of NotLean: the lean rule cannot fail")
	}
	// Positive control for NoAWS: a data function links the AWS SDK.
	deps, err = Deps(filepath.Join("..", ".."), "./functions/get-branch")
	if err != nil {
		t.Fatal(err)
	}
	if got := Check([]Rule{{Package: "functions/get-branch", Forbidden: AWSClients}}, deps); len(got) == 0 {
		t.Error("get-branch links none of AWSClients: the NoAWS rule cannot fail")
	}
}

// TestCheckReportsViolations is the negative control: synthetic graphs that
// break each kind of rule are reported, a clean one is not.
func TestCheckReportsViolations(t *testing.T) {
	m := Module + "/"
	deps := map[string][]string{
		m + "shared/domain":    {"time", m + "shared/apperr", "golang.org/x/text/unicode/norm"},
		m + "shared/app":       {m + "shared/domain", "go.opentelemetry.io/otel/trace", "github.com/aws/smithy-go"},
		m + "shared/jobs":      {m + "shared/lambdakit"},
		m + "shared/notify":    {"html/template"},
		m + "functions/health": {m + "shared/notify", "github.com/aws/aws-sdk-go-v2/service/sesv2/types"},
		m + "functions/book-appointment": {"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts",
			"github.com/aws/aws-sdk-go-v2/credentials/ssocreds", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
			"github.com/aws/aws-sdk-go-v2/credentials", "github.com/aws/aws-sdk-go-v2/service/dynamodb"},
	}
	rules := []Rule{
		Rules[0], Rules[2], Rules[3], Rules[4],
		{Package: "functions/health", Forbidden: NotLean},
	}
	rules = append(rules, FunctionRules([]string{"book-appointment"})...)
	got := strings.Join(Check(rules, deps), "\n")
	for _, want := range []string{
		"shared/domain links golang.org/x/text/unicode/norm",
		"shared/app links go.opentelemetry.io/otel/trace",
		"shared/app links github.com/aws/smithy-go",
		"shared/jobs links " + m + "shared/lambdakit",
		"functions/health links " + m + "shared/notify ",
		"functions/health links github.com/aws/aws-sdk-go-v2/service/sesv2/types",
		"functions/book-appointment links github.com/aws/aws-sdk-go-v2/config ",
		"functions/book-appointment links github.com/aws/aws-sdk-go-v2/service/sts ",
		"functions/book-appointment links github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
		"functions/book-appointment links github.com/aws/aws-sdk-go-v2/feature/ec2/imds ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violation %q not reported; got:\n%s", want, got)
		}
	}
	// The static credentials provider (package credentials itself) and the
	// service clients are allowed.
	if strings.Contains(got, "links github.com/aws/aws-sdk-go-v2/credentials ") || strings.Contains(got, "service/dynamodb") {
		t.Errorf("allowed AWS package reported:\n%s", got)
	}
	if strings.Contains(got, "shared/notify links") || strings.Contains(got, "links time ") || strings.Contains(got, "links "+m+"shared/domain ") || strings.Contains(got, "links "+m+"shared/apperr ") {
		t.Errorf("allowed dependency reported:\n%s", got)
	}
	if v := Check(rules[:1], map[string][]string{m + "shared/domain": {"time", "errors"}}); len(v) != 0 {
		t.Errorf("clean domain reported: %v", v)
	}
	if v := Check(rules[:1], map[string][]string{}); len(v) != 1 {
		t.Errorf("missing package not reported: %v", v)
	}
}
