// Package runbookcheck keeps docs/runbook.md honest: the names an operator
// copies from it at 3 a.m. must exist. It checks the make targets and their
// FN/EVENT/QUEUE values, the template resources (functions, queues, DLQs,
// alarms, event source mappings and schedules derived from them), the
// template parameters passed to deploys, the local platform's /_local paths
// and schedule ids, the LabAppointments metrics and their dimension sets, the
// environment variables and error codes, the log fields of the Logs Insights
// queries, the in-page links, and the runbook headings template.yaml quotes.
package runbookcheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/shared/metrics"
)

// repo holds what the checks read.
type repo struct {
	root     string
	runbook  string
	code     string // the runbook's code: fenced blocks and inline spans, one per line
	tpl      *samtemplate.Template
	makefile string
	metrics  string // docs/metrics.md
	goLocal  string // non-test Go of infra/localdev
	goShared string // non-test Go of shared/
	goAll    string // non-test Go of shared/, infra/, functions/
}

func load(t *testing.T) *repo {
	t.Helper()
	root := repoRoot(t)
	r := &repo{root: root}
	r.runbook = read(t, root, "docs/runbook.md")
	r.makefile = read(t, root, "Makefile")
	r.metrics = read(t, root, "docs/metrics.md")
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	r.tpl = tpl
	r.code = codeOf(r.runbook)
	r.goLocal = goSources(t, filepath.Join(root, "infra", "localdev"))
	r.goShared = goSources(t, filepath.Join(root, "shared"))
	r.goAll = r.goShared + goSources(t, filepath.Join(root, "infra")) + goSources(t, filepath.Join(root, "functions"))
	return r
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// goSources concatenates the non-test .go files under dir.
func goSources(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b.Write(src)
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatalf("read Go sources under %s: %v", dir, err)
	}
	return b.String()
}

var (
	fenceRE  = regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")
	inlineRE = regexp.MustCompile("`([^`\n]+)`")
)

// codeOf returns the fenced blocks and inline code spans of a Markdown text,
// with backslash-continued lines joined, so each command is one line.
func codeOf(md string) string {
	var b strings.Builder
	for _, m := range fenceRE.FindAllStringSubmatch(md, -1) {
		b.WriteString(strings.ReplaceAll(m[1], "\\\n", " "))
		b.WriteByte('\n')
	}
	prose := fenceRE.ReplaceAllString(md, "")
	for _, m := range inlineRE.FindAllStringSubmatch(prose, -1) {
		b.WriteString(m[1])
		b.WriteByte('\n')
	}
	return b.String()
}

// report fails the test with one line per problem, sorted and deduplicated.
func report(t *testing.T, what string, problems []string) {
	t.Helper()
	if len(problems) == 0 {
		return
	}
	sort.Strings(problems)
	problems = slices.Compact(problems)
	t.Errorf("docs/runbook.md: %d %s:\n  %s", len(problems), what, strings.Join(problems, "\n  "))
}

func (r *repo) resource(id string) (samtemplate.Resource, bool) {
	res, ok := r.tpl.Resources[id]
	return res, ok
}

func (r *repo) function(id string) (samtemplate.Function, bool) { return r.tpl.Function(id) }

func (r *repo) isQueue(id string) bool {
	res, ok := r.resource(id)
	return ok && res.Type == "AWS::SQS::Queue"
}

// hasDLQ reports whether a queue has a RedrivePolicy (a source queue, not a DLQ).
func (r *repo) hasDLQ(id string) bool {
	res, ok := r.resource(id)
	return ok && res.Type == "AWS::SQS::Queue" && res.Properties["RedrivePolicy"] != nil
}

// samGenerated are logical ids SAM adds to the stack on its own: with
// DeploymentPreference (Globals), one CodeDeploy application.
var samGenerated = map[string]bool{"ServerlessDeploymentApplication": true}

// derivedID reports whether id is a resource SAM generates from a function:
// <Function><Event> (event source mapping, schedule) or
// <Function>DeploymentGroup; why says what is wrong when it is not.
func (r *repo) derivedID(id string) (ok bool, why string) {
	i := strings.Index(id, "Function")
	if i < 0 {
		return false, "not a resource of template.yaml"
	}
	fnID, suffix := id[:i+len("Function")], id[i+len("Function"):]
	f, found := r.function(fnID)
	if !found {
		return false, "no function " + fnID + " in template.yaml"
	}
	if suffix == "DeploymentGroup" {
		return true, ""
	}
	var names []string
	for _, e := range f.Events {
		if e.Name == suffix {
			return true, ""
		}
		names = append(names, e.Name)
	}
	return false, fnID + " has no event " + suffix + " (events: " + strings.Join(names, ", ") + ")"
}

// knownID reports whether a logical id names a resource of the stack.
func (r *repo) knownID(id string) (bool, string) {
	if _, ok := r.resource(id); ok || samGenerated[id] {
		return true, ""
	}
	return r.derivedID(id)
}

// TestMakeTargets: every `make <target>` exists in the Makefile, and the
// FN, EVENT and QUEUE values given to it exist.
func TestMakeTargets(t *testing.T) {
	r := load(t)
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+):([^=]|$)`).FindAllStringSubmatch(r.makefile, -1) {
		targets[m[1]] = true
	}
	var problems []string
	for _, line := range strings.Split(r.code, "\n") {
		for _, m := range regexp.MustCompile(`\bmake ([a-z][a-z0-9_-]*)((?:\s+[A-Z]+=\S+)*)`).FindAllStringSubmatch(line, -1) {
			target := m[1]
			if !targets[target] {
				problems = append(problems, "make "+target+": no such target in the Makefile")
				continue
			}
			args := map[string]string{}
			for _, a := range strings.Fields(m[2]) {
				k, v, _ := strings.Cut(a, "=")
				args[k] = strings.Trim(v, `"'`)
			}
			if v, ok := args["FN"]; ok && !strings.Contains(v, "$") {
				if _, isID := r.function(v); !isID {
					if _, err := os.Stat(filepath.Join(r.root, "functions", v)); err != nil {
						problems = append(problems, "make "+target+" FN="+v+": neither a folder under functions/ nor a function of template.yaml")
					}
				}
			}
			if v, ok := args["EVENT"]; ok && !strings.Contains(v, "$") && v != "-" {
				if _, err := os.Stat(filepath.Join(r.root, v)); err != nil {
					problems = append(problems, "make "+target+" EVENT="+v+": no such file")
				}
			}
			if v, ok := args["QUEUE"]; ok && !strings.Contains(v, "$") && !r.hasDLQ(v) {
				problems = append(problems, "make "+target+" QUEUE="+v+": not a queue with a dead-letter queue in template.yaml")
			}
		}
	}
	report(t, "make commands that do not work", problems)
}

var (
	// Resource-like names: functions, queues, DLQs, alarms (a leading "…"
	// marks a family such as …DLQDepthAlarm and is skipped).
	resourceNameRE = regexp.MustCompile(`(…)?\b([A-Z][A-Za-z0-9]*(?:Function|Queue|DLQ|Alarm))\b`)
	// Names derived from a function: <Function><Event>, <Function>DeploymentGroup.
	derivedNameRE = regexp.MustCompile(`\b([A-Z][A-Za-z0-9]*Function[A-Z][A-Za-z0-9]*)\b`)
	// Arguments of the runbook's helpers that take a logical id.
	helperArgRE = regexp.MustCompile(`\b(?:fn|q|qarn|qname|lq|lgs)((?:\s+[A-Z][A-Za-z0-9]*)+)`)
)

// TestResourceNames: every function, queue, DLQ and alarm the runbook names
// is in template.yaml (alarms may also be the ones docs/metrics.md proposes),
// every name derived from a function names one of its events, and every
// logical id given to a helper (fn, q, qarn, qname, lq, lgs) exists.
func TestResourceNames(t *testing.T) {
	r := load(t)
	var problems []string
	for _, m := range resourceNameRE.FindAllStringSubmatch(r.runbook, -1) {
		if m[1] != "" {
			continue
		}
		id := m[2]
		if strings.HasSuffix(id, "Alarm") {
			if _, ok := r.resource(id); !ok && !strings.Contains(r.metrics, "`"+id+"`") {
				problems = append(problems, id+": neither an alarm of template.yaml nor one docs/metrics.md proposes")
			}
			continue
		}
		if _, ok := r.resource(id); !ok {
			problems = append(problems, id+": not a resource of template.yaml")
		}
	}
	for _, m := range derivedNameRE.FindAllStringSubmatch(r.runbook, -1) {
		if ok, why := r.derivedID(m[1]); !ok {
			problems = append(problems, m[1]+": "+why)
		}
	}
	for _, m := range helperArgRE.FindAllStringSubmatch(r.code, -1) {
		for _, id := range strings.Fields(m[1]) {
			if ok, why := r.knownID(id); !ok {
				problems = append(problems, strings.TrimSpace(m[0])+": "+id+": "+why)
			}
		}
	}
	for _, m := range regexp.MustCompile(`\b(?:q|qarn|qname|lq) ([A-Z][A-Za-z0-9]*)`).FindAllStringSubmatch(r.code, -1) {
		if _, ok := r.resource(m[1]); ok && !r.isQueue(m[1]) {
			problems = append(problems, m[0]+": "+m[1]+" is not a queue")
		}
	}
	report(t, "names that are not in the stack", problems)
}

// TestParameters: every template parameter passed to a deploy
// (--parameter-overrides) or to the local platform (-param) exists.
func TestParameters(t *testing.T) {
	r := load(t)
	var problems []string
	overrides := regexp.MustCompile(`--parameter-overrides((?:\s+'?[A-Za-z0-9]+=\S*)+)`)
	for _, m := range overrides.FindAllStringSubmatch(r.code, -1) {
		for _, kv := range strings.Fields(m[1]) {
			name, _, _ := strings.Cut(strings.Trim(kv, `'"`), "=")
			if _, ok := r.tpl.Parameters[name]; !ok {
				problems = append(problems, "--parameter-overrides "+name+": no such parameter in template.yaml")
			}
		}
	}
	for _, m := range regexp.MustCompile(`-param ([A-Za-z0-9]+)=`).FindAllStringSubmatch(r.code, -1) {
		if _, ok := r.tpl.Parameters[m[1]]; !ok {
			problems = append(problems, "-param "+m[1]+": no such parameter in template.yaml")
		}
	}
	report(t, "template parameters that do not exist", problems)
}

// TestLocalPaths: every /_local path is served by the local platform
// (infra/localdev), and every schedule id given to /_local/schedules/{id}/run
// is a function with one schedule or <Function>.<Event> of a schedule event.
func TestLocalPaths(t *testing.T) {
	r := load(t)
	var problems []string
	for _, m := range regexp.MustCompile(`/_local((?:/[A-Za-z0-9_.{}<>-]+)*)`).FindAllStringSubmatch(r.runbook, -1) {
		segs := strings.Split(strings.TrimPrefix(m[1], "/"), "/")
		if len(segs) == 0 || segs[0] == "" {
			problems = append(problems, m[0]+": no endpoint")
			continue
		}
		if !strings.Contains(r.goLocal, `"/`+segs[0]+`"`) && !strings.Contains(r.goLocal, `"/`+segs[0]+`/"`) {
			problems = append(problems, m[0]+": infra/localdev serves no /"+segs[0])
			continue
		}
		if segs[0] != "schedules" || len(segs) == 1 {
			continue
		}
		if len(segs) != 3 || segs[2] != "run" {
			problems = append(problems, m[0]+": the schedules endpoints are /_local/schedules and /_local/schedules/{id}/run")
			continue
		}
		if id := segs[1]; !strings.ContainsAny(id, "{<") {
			if why := r.scheduleID(id); why != "" {
				problems = append(problems, m[0]+": "+why)
			}
		}
	}
	report(t, "local platform paths that are not served", problems)
}

// scheduleID returns "" when id names a schedule as POST
// /_local/schedules/{id}/run accepts it (function logical id with one
// schedule, or <Function>.<Event>), else why not.
func (r *repo) scheduleID(id string) string {
	fnID, event, dotted := strings.Cut(id, ".")
	f, ok := r.function(fnID)
	if !ok {
		return fnID + " is not a function of template.yaml"
	}
	var schedules []string
	for _, e := range f.Events {
		if e.Type == "Schedule" || e.Type == "ScheduleV2" {
			schedules = append(schedules, e.Name)
		}
	}
	switch {
	case dotted && !slices.Contains(schedules, event):
		return fnID + " has no schedule event " + event
	case !dotted && len(schedules) == 0:
		return fnID + " has no schedule"
	case !dotted && len(schedules) > 1:
		return fnID + " has the schedules " + strings.Join(schedules, ", ") + ": name one as <Function>.<Event>"
	}
	return ""
}

// TestMetrics: every metric read from the LabAppointments namespace exists
// with exactly the dimensions given, literal dimension values are allowed
// values, and Consumer values are consumer names of shared/wiring.
func TestMetrics(t *testing.T) {
	r := load(t)
	consumers := map[string]bool{}
	wiring := goSources(t, filepath.Join(r.root, "shared", "wiring"))
	for _, m := range regexp.MustCompile(`\b[A-Za-z]*Consumer\s*=\s*"([^"]+)"`).FindAllStringSubmatch(wiring, -1) {
		consumers[m[1]] = true
	}
	if len(consumers) == 0 {
		t.Fatal("no consumer name constants (…Consumer = \"name\") found in shared/wiring")
	}
	var problems []string
	nameRE := regexp.MustCompile(`--metric-name (\S+)`)
	dimsRE := regexp.MustCompile(`Name=([A-Za-z]+),Value=("\$\([^)]*\)"|\S+)`)
	for _, line := range strings.Split(r.code, "\n") {
		if !strings.Contains(line, "--namespace "+metrics.Namespace) {
			continue
		}
		nm := nameRE.FindStringSubmatch(line)
		if nm == nil {
			problems = append(problems, "a "+metrics.Namespace+" command without --metric-name: "+line)
			continue
		}
		def, ok := metrics.Lookup(nm[1])
		if !ok {
			problems = append(problems, nm[1]+": not a metric of shared/metrics")
			continue
		}
		var names []string
		for _, d := range dimsRE.FindAllStringSubmatch(line, -1) {
			names = append(names, d[1])
			value := d[2]
			if strings.Contains(value, "$") {
				continue
			}
			if allowed, closed := def.Values[d[1]]; closed && !slices.Contains(allowed, value) {
				problems = append(problems, nm[1]+": "+d[1]+"="+value+" is not one of "+strings.Join(allowed, ", "))
			}
			if d[1] == metrics.DimConsumer && !consumers[value] {
				problems = append(problems, nm[1]+": Consumer="+value+" is no consumer name of shared/wiring")
			}
		}
		if err := def.CheckDimensions(names); err != nil {
			problems = append(problems, err.Error())
		}
	}
	report(t, "metric reads that match no metric", problems)
}

// awsVariables are environment variables of the AWS CLI and SDKs the runbook
// sets for the local platform; they need not appear in this repository.
var awsVariables = map[string]bool{
	"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
	"AWS_ENDPOINT_URL_SQS": true, "AWS_ENDPOINT_URL_DYNAMODB": true,
}

// TestVariablesAndCodes: every upper-case NAME_WITH_UNDERSCORES (environment
// variables, error codes) appears in template.yaml or in the Go sources.
func TestVariablesAndCodes(t *testing.T) {
	r := load(t)
	tplText := read(t, r.root, "template.yaml")
	var problems []string
	for _, name := range regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`).FindAllString(r.runbook, -1) {
		if awsVariables[name] || strings.Contains(tplText, name) || strings.Contains(r.goAll, `"`+name+`"`) {
			continue
		}
		problems = append(problems, name+": in neither template.yaml nor a Go string")
	}
	report(t, "variables or codes that do not exist", problems)
}

// builtinFields are log fields no Go string of ours names: the keys Lambda's
// JSON log format reads (aws-lambda-go's lambdacontext.ReplaceAttr).
var builtinFields = map[string]bool{"timestamp": true, "level": true, "message": true}

// TestLogFields: every field a Logs Insights query or a filter pattern reads
// is one the code writes: a log key of shared/ (a Go string), a key of a
// job's report (report.<json tag>), or a metric or dimension name of the EMF
// lines.
func TestLogFields(t *testing.T) {
	r := load(t)
	emf := map[string]bool{metrics.DimFunctionName: true}
	for _, d := range metrics.Catalog() {
		emf[d.Name] = true
		for _, dim := range d.Dimensions {
			emf[dim] = true
		}
	}
	jobs := goSources(t, filepath.Join(r.root, "shared", "jobs"))
	var problems []string
	check := func(field, where string) {
		switch {
		case field == "" || strings.HasPrefix(field, "@") || builtinFields[field] || emf[field]:
		case strings.HasPrefix(field, "report."):
			if !strings.Contains(jobs, `json:"`+strings.TrimPrefix(field, "report.")) {
				problems = append(problems, where+": "+field+": no such member of a job report (shared/jobs)")
			}
		case !strings.Contains(r.goShared, `"`+field+`"`):
			problems = append(problems, where+": "+field+": no log key of that name in shared/")
		}
	}
	for _, q := range regexp.MustCompile(`(?s)\binsights '([^']*)'`).FindAllStringSubmatch(r.code, -1) {
		for _, f := range insightsFields(q[1]) {
			check(f, "insights query")
		}
	}
	for _, m := range regexp.MustCompile(`\$\.([A-Za-z][A-Za-z0-9_]*)`).FindAllStringSubmatch(r.code, -1) {
		check(m[1], "filter pattern")
	}
	report(t, "log fields the code never writes", problems)
}

var (
	identRE      = regexp.MustCompile(`@?[A-Za-z_][A-Za-z0-9_.]*`)
	comparisonRE = regexp.MustCompile(`(@?[A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|!=|<|>|\blike\b)`)
	callRE       = regexp.MustCompile(`\b[a-z_]+\(([^()]*)\)`)
	aliasRE      = regexp.MustCompile(`\bas\s+([A-Za-z_][A-Za-z0-9_]*)`)
)

// insightsFields returns the fields a Logs Insights query reads: compared in
// filter, listed by fields, grouped by "by", and the arguments of functions
// (count(x), pct(x, 99), ispresent(x)); aliases, @fields and numbers are
// left out.
func insightsFields(query string) []string {
	query = regexp.MustCompile(`"[^"]*"|/[^/]*/`).ReplaceAllString(query, `""`) // string and regex literals
	aliases := map[string]bool{}
	for _, m := range aliasRE.FindAllStringSubmatch(query, -1) {
		aliases[m[1]] = true
	}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && !aliases[s] && identRE.MatchString(s) && identRE.FindString(s) == s {
			out = append(out, s)
		}
	}
	for _, cmd := range strings.Split(query, "|") {
		cmd = strings.TrimSpace(cmd)
		verb, rest, _ := strings.Cut(cmd, " ")
		for _, m := range callRE.FindAllStringSubmatch(rest, -1) {
			for _, arg := range strings.Split(m[1], ",") {
				add(arg)
			}
		}
		switch verb {
		case "filter":
			for _, m := range comparisonRE.FindAllStringSubmatch(rest, -1) {
				add(m[1])
			}
		case "fields":
			for _, f := range strings.Split(rest, ",") {
				add(f)
			}
		case "stats":
			if _, by, ok := strings.Cut(rest, " by "); ok {
				for _, f := range strings.Split(by, ",") {
					add(f)
				}
			}
		}
	}
	return out
}

// TestHeadingsAndLinks: every in-page link (#anchor) leads to a heading, and
// every runbook heading template.yaml quotes (docs/runbook.md "Heading")
// exists, so an alarm's description sends the operator somewhere real.
func TestHeadingsAndLinks(t *testing.T) {
	r := load(t)
	headings := map[string]bool{}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} (.+)$`).FindAllStringSubmatch(fenceRE.ReplaceAllString(r.runbook, ""), -1) {
		headings[m[1]] = true
		anchors[slug(m[1])] = true
	}
	var problems []string
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(r.runbook, -1) {
		if !anchors[m[1]] {
			problems = append(problems, "link #"+m[1]+": no heading has that anchor")
		}
	}
	tplText := read(t, r.root, "template.yaml")
	quoted := regexp.MustCompile(`"([^"]+)"`)
	for _, line := range strings.Split(tplText, "\n") {
		_, after, ok := strings.Cut(line, "docs/runbook.md")
		if !ok {
			continue
		}
		for _, m := range quoted.FindAllStringSubmatch(after, -1) {
			if !headings[m[1]] {
				problems = append(problems, `template.yaml refers to the heading "`+m[1]+`", which the runbook does not have`)
			}
		}
	}
	report(t, "broken references", problems)
}

// slug is GitHub's heading anchor: lower case, letters, digits, spaces,
// hyphens and underscores kept, spaces turned into hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(heading) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		}
	}
	return b.String()
}
