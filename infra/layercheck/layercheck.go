// Package layercheck enforces the dependency rules of DEVELOPERS.md on the
// module's import graph (as `go list -deps` reports it): the domain is
// standard library only, the use cases link no AWS SDK, OTel or Lambda kit,
// the jobs and the notification dispatcher link no Lambda kit, and the lean
// functions (the health check and the catalog routes) link no SES, SNS, SQS
// or notification templates (see NotLean).
package layercheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Module is the module path of the repository.
const Module = "github.com/labchain/appointments"

// Rule forbids the packages matching any of Forbidden (path prefixes; "std!"
// forbids everything outside the standard library and the package's own
// module-internal allowlist Allow) in the dependencies of Package.
type Rule struct {
	Package   string   // import path, relative to Module ("shared/domain")
	Forbidden []string // import path prefixes
	StdOnly   bool     // only the standard library (and Allow) may be linked
	Allow     []string // with StdOnly: module packages that may be linked
	Why       string
}

// Rules are the repository's layering and lean-function rules.
var Rules = func() []Rule {
	rules := []Rule{
		// apperr is the one error vocabulary, itself standard library only.
		{Package: "shared/domain", StdOnly: true, Allow: []string{"shared/apperr"}, Why: "the domain is standard library only"},
		{Package: "shared/apperr", StdOnly: true, Why: "the error vocabulary is standard library only"},
		{Package: "shared/app", Forbidden: []string{"github.com/aws/", "go.opentelemetry.io/", Module + "/shared/lambdakit"},
			Why: "the use cases declare ports; adapters bring the AWS SDK, OTel and the Lambda kit"},
		{Package: "shared/jobs", Forbidden: []string{Module + "/shared/lambdakit"}, Why: "jobs log through logctx, not the Lambda kit"},
		{Package: "shared/notify", Forbidden: []string{Module + "/shared/lambdakit"}, Why: "the dispatcher logs through logctx, not the Lambda kit"},
	}
	for _, fn := range LeanFunctions {
		rules = append(rules, Rule{Package: "functions/" + fn, Forbidden: NotLean,
			Why: "a route that sends no message links no message senders, queues or templates"})
	}
	for _, fn := range NoAWS {
		rules = append(rules, Rule{Package: "functions/" + fn, Forbidden: AWSClients,
			Why: "a function that calls no AWS service links no AWS SDK client"})
	}
	return rules
}()

// LeanFunctions are functions that send no message: the health check and the
// catalog routes (read and write).
var LeanFunctions = []string{"health",
	"get-branch", "list-branches", "list-services", "list-resources", "get-hours",
	"create-branch", "create-service", "create-resource", "update-resource", "put-hours"}

// NotLean are what a lean function must not link: the SES, SNS and SQS
// clients, the SQS adapter, the outbox publisher and the notification
// templates and senders.
var NotLean = []string{
	"github.com/aws/aws-sdk-go-v2/service/sesv2",
	"github.com/aws/aws-sdk-go-v2/service/sns",
	"github.com/aws/aws-sdk-go-v2/service/sqs",
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws",
	Module + "/shared/sqsx",
	Module + "/shared/outbox",
	Module + "/shared/notify",
}

// NoAWS are the functions that call no AWS service (the health check): they
// link no AWS SDK client or configuration loader at all.
var NoAWS = []string{"health"}

// AWSClients are what a NoAWS function must not link.
var AWSClients = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/",
	Module + "/shared/awssdk",
}

// CredentialChain is what no function may link: the SDK's configuration
// loader and the credential providers it brings (SSO, SSO-OIDC, STS, sign-in,
// IMDS, container and process credentials, the shared-config parser). In
// Lambda the credentials and the region always come from the runtime's
// environment, so shared/awssdk reads them from there; the chain only cost
// cold-start time (issue #10 §6).
var CredentialChain = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials/",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/signin",
}

// FunctionRules are the rules every function under functions/ keeps, one per
// name in fns (see Functions): it links no default credential chain.
func FunctionRules(fns []string) []Rule {
	var rules []Rule
	for _, fn := range fns {
		rules = append(rules, Rule{Package: "functions/" + fn, Forbidden: CredentialChain,
			Why: "a function takes its credentials and region from the Lambda environment (shared/awssdk), not from the default chain"})
	}
	return rules
}

// Functions lists the function directories under root/functions.
func Functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Check returns one line per violation of rules in deps (package import
// path -> its transitive dependencies), sorted.
func Check(rules []Rule, deps map[string][]string) []string {
	var out []string
	for _, r := range rules {
		pkg := Module + "/" + r.Package
		ds, ok := deps[pkg]
		if !ok {
			out = append(out, fmt.Sprintf("%s: not in the import graph", r.Package))
			continue
		}
		for _, d := range ds {
			if d == pkg {
				continue
			}
			if r.StdOnly && !isStd(d) && !contains(r.Allow, strings.TrimPrefix(d, Module+"/")) {
				out = append(out, fmt.Sprintf("%s links %s (%s)", r.Package, d, r.Why))
			}
			for _, f := range r.Forbidden {
				if d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
					out = append(out, fmt.Sprintf("%s links %s (%s)", r.Package, d, r.Why))
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// isStd reports whether path is a standard library package: no dot in its
// first element (the go command's own rule).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Deps runs `go list -deps -json` in dir for patterns (as built for Lambda:
// tag lambda.norpc) and returns each listed package's dependencies.
func Deps(dir string, patterns ...string) (map[string][]string, error) {
	cmd := exec.Command("go", append([]string{"list", "-tags", "lambda.norpc", "-json=ImportPath,Deps"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		deps[p.ImportPath] = p.Deps
	}
	return deps, nil
}
