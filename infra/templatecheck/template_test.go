package templatecheck

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labchain/appointments/infra/apicheck"
	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/shared/httpapi"
)

const root = "../.."

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestFunctionsMatchCode(t *testing.T) {
	tpl := load(t)
	inTemplate := map[string]bool{}
	for _, f := range tpl.Functions() {
		inTemplate[f.Dir()] = true
		p := f.Properties
		if samtemplate.Str(p["Runtime"]) != "provided.al2023" || samtemplate.Str(p["Handler"]) != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v, want provided.al2023/bootstrap", f.LogicalID, p["Runtime"], p["Handler"])
		}
		if archs, _ := p["Architectures"].([]any); len(archs) != 1 || archs[0] != "arm64" {
			t.Errorf("%s: architectures %v, want [arm64]", f.LogicalID, p["Architectures"])
		}
		if samtemplate.Str(f.Metadata["BuildMethod"]) != "makefile" || samtemplate.Str(p["CodeUri"]) != "." {
			t.Errorf("%s: want Metadata.BuildMethod makefile and CodeUri . (the Makefile's build-%% rule)", f.LogicalID)
		}
		if _, err := os.Stat(filepath.Join(root, f.Dir(), "main.go")); err != nil {
			t.Errorf("%s: %s/main.go missing", f.LogicalID, f.Dir())
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "functions", "*"))
	for _, d := range dirs {
		rel := "functions/" + filepath.Base(d)
		if !inTemplate[rel] {
			t.Errorf("%s has no function in template.yaml", rel)
		}
	}
}

func TestFunctionsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function")
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "./functions/...")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./functions/...: %v\n%s", err, out)
	}
}

// TestSAMMakefileBuild runs what `sam build` runs for a function with
// BuildMethod makefile and checks the artifact is a Linux arm64 bootstrap.
func TestSAMMakefileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles a function")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	for _, id := range []string{"HealthFunction", "CheckInAppointmentFunction"} {
		out := t.TempDir()
		cmd := exec.Command("make", "--no-print-directory", "build-"+id, "ARTIFACTS_DIR="+out)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", id, err, b)
		}
		f, err := elf.Open(filepath.Join(out, "bootstrap"))
		if err != nil {
			t.Fatalf("%s: bootstrap: %v", id, err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("%s: bootstrap machine %v, want arm64", id, f.Machine)
		}
		f.Close()
		if _, err := os.Stat(filepath.Join(out, "collector.yaml")); err != nil {
			t.Errorf("%s: no collector.yaml beside the bootstrap (the ADOT layer's configuration): %v", id, err)
		}
	}
}

var ctorCall = regexp.MustCompile(`httpapi\.(\w+)\(`)

// TestRoutesAgree checks template routes, the handler registry, each main.go's
// route constructor and the OpenAPI operations name the same set of routes.
func TestRoutesAgree(t *testing.T) {
	tpl := load(t)
	registry := httpapi.Routes(nil)
	byName := map[string]httpapi.Route{}
	for _, r := range registry {
		byName[r.Name] = r
	}
	spec, err := apicheck.Load(filepath.Join(root, "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range spec.Operations() {
		documented[op] = true
	}
	var templateKeys []string
	for _, f := range tpl.Functions() {
		routes := f.Routes()
		if len(routes) == 0 && len(f.Events) > 0 {
			continue // an event-driven function (stream, queue, schedule)
		}
		if len(routes) != 1 {
			t.Errorf("%s: %d HTTP routes, want exactly 1 (one Lambda per route)", f.LogicalID, len(routes))
			continue
		}
		rt := routes[0]
		templateKeys = append(templateKeys, rt.Key())
		if _, ok := registry[rt.Key()]; !ok {
			t.Errorf("%s: route %s has no handler in httpapi.Routes", f.LogicalID, rt.Key())
		}
		if !documented[rt.Key()] {
			t.Errorf("%s: route %s is not in docs/openapi.yaml", f.LogicalID, rt.Key())
		}
		if rt.Public != (rt.Key() == "GET /v1/health") {
			t.Errorf("%s: public=%v; only GET /v1/health may skip the JWT authorizer", rt.Key(), rt.Public)
		}
		src, err := os.ReadFile(filepath.Join(root, f.Dir(), "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		var used []string
		for _, m := range ctorCall.FindAllStringSubmatch(string(src), -1) {
			if _, ok := byName[m[1]]; ok {
				used = append(used, m[1])
			}
		}
		if len(used) != 1 || byName[used[0]].Key() != rt.Key() {
			t.Errorf("%s: main.go serves %v, want the handler of %s", f.LogicalID, used, rt.Key())
		}
	}
	if len(templateKeys) != len(registry) || len(documented) != len(registry) {
		t.Errorf("template has %d routes, registry %d, OpenAPI %d", len(templateKeys), len(registry), len(documented))
	}
	sort.Strings(templateKeys)
	for i := 1; i < len(templateKeys); i++ {
		if templateKeys[i] == templateKeys[i-1] {
			t.Errorf("route %s declared twice", templateKeys[i])
		}
	}
}

// TestEnvironmentAndPolicies checks that every env var resolves to a declared
// resource or parameter and that each function gets exactly the access it uses.
func TestEnvironmentAndPolicies(t *testing.T) {
	tpl := load(t)
	refs := func(name string) (string, bool) {
		id, _, _ := strings.Cut(name, ".")
		_, ok := tpl.Resources[id]
		return "resolved:" + name, ok
	}
	for _, f := range tpl.Functions() {
		// Environment has no default: every deploy names it.
		env, err := tpl.ResolveEnv(f, samtemplate.Resolver{Ref: refs, Region: "ap-southeast-1", Params: map[string]string{"Environment": "staging"}})
		if err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
			continue
		}
		for k, v := range env {
			if v == "" {
				t.Errorf("%s: %s resolves to nothing", f.LogicalID, k)
			}
		}
		_, usesTable := f.Env["TABLE_NAME"]
		main, _ := os.ReadFile(filepath.Join(root, f.Dir(), "main.go"))
		if strings.Contains(string(main), "wiring.Booking(") && !usesTable {
			t.Errorf("%s: main.go uses the booking table but TABLE_NAME is not set", f.LogicalID)
		}
	}
	for _, err := range append(CheckPolicies(tpl), CheckUserPoolClients(tpl)...) {
		t.Error(err)
	}
}

func TestQueuesStreamsAndAlarms(t *testing.T) {
	tpl := load(t)
	for _, err := range append(append(CheckQueues(tpl), CheckStreams(tpl)...), CheckDeployments(tpl)...) {
		t.Error(err)
	}
}

func TestJWTAuthorizer(t *testing.T) {
	tpl := load(t)
	apis := tpl.ResourcesOfType("AWS::Serverless::HttpApi")
	if len(apis) != 1 {
		t.Fatalf("%d HTTP APIs, want 1", len(apis))
	}
	auth := samtemplate.Map(apis[0].Properties["Auth"])
	if samtemplate.Str(auth["DefaultAuthorizer"]) != "JwtAuthorizer" {
		t.Fatalf("default authorizer = %v", auth["DefaultAuthorizer"])
	}
	jwt := samtemplate.Map(samtemplate.Map(samtemplate.Map(auth["Authorizers"])["JwtAuthorizer"])["JwtConfiguration"])
	if samtemplate.Str(samtemplate.Map(jwt["issuer"])["Ref"]) != "JwtIssuer" {
		t.Errorf("issuer = %v, want !Ref JwtIssuer", jwt["issuer"])
	}
	aud, _ := jwt["audience"].([]any)
	if len(aud) != 1 || samtemplate.Str(samtemplate.Map(aud[0])["Ref"]) != "JwtAudience" {
		t.Errorf("audience = %v, want [!Ref JwtAudience]", jwt["audience"])
	}
	for _, f := range tpl.Functions() {
		for _, r := range f.Routes() {
			if api := samtemplate.Map(f.Events[0].Properties["ApiId"]); samtemplate.Str(api["Ref"]) != apis[0].LogicalID {
				t.Errorf("%s: route %s is not on %s", f.LogicalID, r.Key(), apis[0].LogicalID)
			}
		}
	}
}

// routeNames maps each route key of the handler registry ("GET
// /v1/availability") to the route's name, the Route dimension of ApiLatency.
func routeNames() map[string]string {
	out := map[string]string{}
	for key, r := range httpapi.Routes(nil) {
		out[key] = r.Name
	}
	return out
}

// TestAlarms checks every alarm against the metric catalog, the alarm topic
// and the runbook, and that only the API alarms roll deployments back.
func TestAlarms(t *testing.T) {
	tpl := load(t)
	docs := map[string]string{}
	for _, p := range []string{"docs/runbook.md", "docs/metrics.md"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		docs[p] = string(b)
	}
	for _, err := range append(CheckAlarms(tpl, routeNames()), CheckDocRefs(tpl, docs)...) {
		t.Error(err)
	}
	// A business alarm (a silent LIS, a failing SMS provider) says nothing
	// about the code being deployed: it must not roll a deployment back.
	var rollback []string
	for _, a := range list(samtemplate.Map(samtemplate.Map(tpl.Globals["Function"])["DeploymentPreference"])["Alarms"]) {
		rollback = append(rollback, samtemplate.Str(samtemplate.Map(a)["Ref"]))
	}
	if strings.Join(rollback, " ") != "Api5xxAlarm ApiLatencyAlarm" {
		t.Errorf("rollback alarms %v, want [Api5xxAlarm ApiLatencyAlarm]", rollback)
	}
}

// TestDashboard checks the dashboard: valid JSON after !Sub with stand-in
// values, every metric in the catalog with its exact dimensions, every alarm
// on its alarm widget.
func TestDashboard(t *testing.T) {
	tpl := load(t)
	dashboards := tpl.ResourcesOfType("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(dashboards))
	}
	for _, err := range CheckDashboards(tpl, routeNames()) {
		t.Error(err)
	}
	body, errs := SubStandIns(tpl, samtemplate.Str(samtemplate.Map(dashboards[0].Properties["DashboardBody"])["Fn::Sub"]))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var doc struct {
		Widgets []struct {
			Type string `json:"type"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	types := map[string]int{}
	for _, w := range doc.Widgets {
		types[w.Type]++
	}
	if types["alarm"] != 1 || types["metric"] < 10 || types["log"] != 1 {
		t.Errorf("widgets by type %v, want 1 alarm, ≥ 10 metric and 1 log widget", types)
	}
	out, ok := tpl.Outputs["DashboardUrl"]
	if sub := samtemplate.Str(samtemplate.Map(samtemplate.Map(out)["Value"])["Fn::Sub"]); !ok || !strings.Contains(sub, "${"+dashboards[0].LogicalID+"}") {
		t.Errorf("Outputs.DashboardUrl = %v, want a !Sub URL naming ${%s}", out, dashboards[0].LogicalID)
	}
}

// TestMetricConsumersExist checks that every Consumer an alarm or the
// dashboard names is a consumer name of shared/wiring: a misspelt one is a
// metric without data (an empty graph, a silence alarm that always fires).
func TestMetricConsumersExist(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "shared", "wiring", "*.go"))
	sub, _ := filepath.Glob(filepath.Join(root, "shared", "wiring", "*", "*.go"))
	files = append(files, sub...)
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	seen := 0
	for _, r := range MetricRefs(load(t)) {
		c, ok := r.Dimensions["Consumer"]
		if !ok {
			continue
		}
		seen++
		if !regexp.MustCompile(`=\s*"` + regexp.QuoteMeta(c) + `"`).MatchString(src.String()) {
			t.Errorf("%s: Consumer %q is no consumer name in shared/wiring", r.Where, c)
		}
	}
	if seen == 0 {
		t.Error("no alarm or dashboard metric names a Consumer")
	}
}
