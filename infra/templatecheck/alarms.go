package templatecheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/shared/metrics"
)

// MetricRef is one metric an alarm or a dashboard names.
type MetricRef struct {
	// Where says which alarm or dashboard widget names the metric.
	Where string
	// Namespace and Name identify the metric.
	Namespace, Name string
	// Dimensions maps dimension names to values. A reference is written as
	// its stand-in: "ref:X" for !Ref X, "getatt:X.Attr" for !GetAtt X.Attr.
	Dimensions map[string]string
}

// Stand-ins for the pseudo parameters when a !Sub string is checked.
var pseudoStandIns = map[string]string{
	"AWS::Region":    "ap-southeast-1",
	"AWS::AccountId": "000000000000",
	"AWS::Partition": "aws",
	"AWS::StackName": "lab-appointments-staging",
	"AWS::URLSuffix": "amazonaws.com",
}

// subVariable matches a !Sub variable; ${!Literal} is an escape, not one.
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// SubStandIns performs a !Sub on s with stand-in values: a parameter's
// default, a pseudo parameter's typical value, "ref:X" for a resource X and
// "getatt:X.Attr" for an attribute. Each stand-in is JSON-safe, so a !Sub'ed
// JSON document is valid after the substitution exactly when it is valid
// after CloudFormation's. A variable that names nothing is an error.
func SubStandIns(tpl *samtemplate.Template, s string) (string, []error) {
	var errs []error
	out := subVariable.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := pseudoStandIns[name]; ok {
			return v
		}
		if p, ok := tpl.Parameters[name]; ok {
			return samtemplate.Str(p.Default)
		}
		if id, attr, ok := strings.Cut(name, "."); ok {
			if _, ok := tpl.Resources[id]; ok {
				return "getatt:" + id + "." + attr
			}
		} else if _, ok := tpl.Resources[name]; ok {
			return "ref:" + name
		}
		errs = append(errs, fmt.Errorf("!Sub names ${%s}, which is no parameter, resource or pseudo parameter", name))
		return m
	})
	return strings.ReplaceAll(out, "${!", "${"), errs
}

// standIn turns a template value (a string, !Ref, !GetAtt or a string !Sub)
// into the string CheckAlarms and CheckDashboards compare.
func standIn(tpl *samtemplate.Template, v any) (string, []error) {
	m := samtemplate.Map(v)
	if ref, ok := m["Ref"]; ok {
		return "ref:" + samtemplate.Str(ref), nil
	}
	if ga := getAtt(v); ga[0] != "" {
		return "getatt:" + ga[0] + "." + ga[1], nil
	}
	if sub, ok := m["Fn::Sub"].(string); ok {
		return SubStandIns(tpl, sub)
	}
	if len(m) > 0 {
		return "", []error{fmt.Errorf("unsupported value %v", v)}
	}
	return samtemplate.Str(v), nil
}

// source renders a stand-in the way the template spells it.
func source(standIn string) string {
	if id, ok := strings.CutPrefix(standIn, "ref:"); ok {
		return "!Ref " + id
	}
	if ga, ok := strings.CutPrefix(standIn, "getatt:"); ok {
		return "!GetAtt " + ga
	}
	return fmt.Sprintf("%q", standIn)
}

func isFunction(tpl *samtemplate.Template, id string) bool {
	t := tpl.Resources[id].Type
	return t == "AWS::Serverless::Function" || t == "AWS::Lambda::Function"
}

// checkMetric checks a metric an alarm or a dashboard names. A metric of the
// project's namespace must be in the shared/metrics catalog with exactly its
// dimension set (CloudWatch matches sets exactly: anything else is a metric
// that never has data), closed dimensions must hold allowed values,
// FunctionName must be !Ref of a function (lambdakit writes the function's
// name) and Route the name of that function's route (routeNames maps a route
// key such as "GET /v1/availability" to its name; nil skips the check). An
// AWS/Lambda metric's FunctionName must be !Ref of a function too.
func checkMetric(tpl *samtemplate.Template, routeNames map[string]string, r MetricRef) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: metric %s: %s", r.Where, r.Name, fmt.Sprintf(format, args...)))
	}
	fnRef := func() (string, bool) {
		id, ok := strings.CutPrefix(r.Dimensions[metrics.DimFunctionName], "ref:")
		if !ok || !isFunction(tpl, id) {
			bad("FunctionName must be !Ref <function> (the name lambdakit and Lambda report), got %s", source(r.Dimensions[metrics.DimFunctionName]))
			return "", false
		}
		return id, true
	}
	switch r.Namespace {
	case "AWS/Lambda":
		if _, ok := r.Dimensions[metrics.DimFunctionName]; ok {
			fnRef()
		}
		return errs
	case metrics.Namespace:
	default:
		return nil
	}
	def, ok := metrics.Lookup(r.Name)
	if !ok {
		bad("not in the shared/metrics catalog")
		return errs
	}
	names := make([]string, 0, len(r.Dimensions))
	for k := range r.Dimensions {
		names = append(names, k)
	}
	if err := def.CheckDimensions(names); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", r.Where, err))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Dimensions)) {
		if allowed, closed := def.Values[k]; closed && !slices.Contains(allowed, r.Dimensions[k]) {
			bad("%s=%q is not one of %v", k, r.Dimensions[k], allowed)
		}
	}
	if _, ok := r.Dimensions[metrics.DimFunctionName]; !ok {
		return errs
	}
	fn, ok := fnRef()
	if route, has := r.Dimensions[metrics.DimRoute]; ok && has && routeNames != nil {
		f, _ := tpl.Function(fn)
		var served []string
		for _, rt := range f.Routes() {
			served = append(served, routeNames[rt.Key()])
		}
		if !slices.Contains(served, route) {
			bad("Route %q is not the route of %s (%v)", route, fn, served)
		}
	}
	return errs
}

// alarmMetrics returns the metrics an alarm names, directly or in the
// MetricStat of a metric-math alarm.
func alarmMetrics(tpl *samtemplate.Template, a samtemplate.Resource) ([]MetricRef, []error) {
	var refs []MetricRef
	var errs []error
	add := func(where string, ns, name any, dims any) {
		r := MetricRef{Where: where, Namespace: samtemplate.Str(ns), Name: samtemplate.Str(name), Dimensions: map[string]string{}}
		for _, d := range list(dims) {
			dm := samtemplate.Map(d)
			v, es := standIn(tpl, dm["Value"])
			for _, e := range es {
				errs = append(errs, fmt.Errorf("%s: dimension %v: %w", where, dm["Name"], e))
			}
			r.Dimensions[samtemplate.Str(dm["Name"])] = v
		}
		refs = append(refs, r)
	}
	p := a.Properties
	if p["MetricName"] != nil {
		add(a.LogicalID, p["Namespace"], p["MetricName"], p["Dimensions"])
	}
	for _, q := range list(p["Metrics"]) {
		qm := samtemplate.Map(q)
		if ms := samtemplate.Map(qm["MetricStat"]); len(ms) > 0 {
			m := samtemplate.Map(ms["Metric"])
			add(a.LogicalID+" ("+samtemplate.Str(qm["Id"])+")", m["Namespace"], m["MetricName"], m["Dimensions"])
		}
	}
	return refs, errs
}

// MetricRefs returns every metric the template's alarms and dashboards name.
func MetricRefs(tpl *samtemplate.Template) []MetricRef {
	var out []MetricRef
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		refs, _ := alarmMetrics(tpl, a)
		out = append(out, refs...)
	}
	for _, d := range tpl.ResourcesOfType("AWS::CloudWatch::Dashboard") {
		refs, _, _ := dashboardContents(tpl, d)
		out = append(out, refs...)
	}
	return out
}

var treatMissingData = []string{"breaching", "notBreaching", "ignore", "missing"}

// metricID is what CloudWatch allows as the Id of a metric or expression.
var metricID = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

// CheckAlarms checks every AWS::CloudWatch::Alarm: it has an
// AlarmDescription, an explicit TreatMissingData and AlarmActions that notify
// an SNS topic of the template; it names its metric either directly or as
// metric math, where exactly one entry returns data, every MetricStat has the
// same period, expressions use only Ids of the alarm and no SEARCH (not
// allowed in alarms); and each metric it names passes checkMetric.
func CheckAlarms(tpl *samtemplate.Template, routeNames map[string]string) []error {
	var errs []error
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf(a.LogicalID+": "+format, args...))
		}
		p := a.Properties
		if d, _ := standIn(tpl, p["AlarmDescription"]); strings.TrimSpace(d) == "" {
			bad("no AlarmDescription")
		}
		if !slices.Contains(treatMissingData, samtemplate.Str(p["TreatMissingData"])) {
			bad("TreatMissingData must be set (%s)", strings.Join(treatMissingData, ", "))
		}
		if !alarmsTopic(tpl, p) {
			bad("AlarmActions must notify the alarm topic (!Ref <AWS::SNS::Topic>)")
		}
		math := list(p["Metrics"])
		switch {
		case p["MetricName"] != nil && len(math) > 0:
			bad("names both MetricName and Metrics")
		case p["MetricName"] == nil && len(math) == 0:
			bad("names no metric (MetricName or Metrics)")
		}
		if len(math) > 0 {
			errs = append(errs, checkMetricMath(a.LogicalID, math)...)
		}
		refs, es := alarmMetrics(tpl, a)
		errs = append(errs, es...)
		for _, r := range refs {
			errs = append(errs, checkMetric(tpl, routeNames, r)...)
		}
	}
	return errs
}

var (
	quoted     = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	identifier = regexp.MustCompile(`\b[a-z][A-Za-z0-9_]*\b`)
)

func checkMetricMath(alarm string, math []any) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(alarm+": "+format, args...))
	}
	ids := map[string]bool{}
	periods := map[string]bool{}
	returning := 0
	var exprs []string
	for _, q := range math {
		qm := samtemplate.Map(q)
		id := samtemplate.Str(qm["Id"])
		if !metricID.MatchString(id) || ids[id] {
			bad("Id %q must be unique and match %s", id, metricID)
		}
		ids[id] = true
		if rd, set := qm["ReturnData"]; !set || rd == true || samtemplate.Str(rd) == "true" {
			returning++
		}
		if ms := samtemplate.Map(qm["MetricStat"]); len(ms) > 0 {
			periods[samtemplate.Str(ms["Period"])] = true
		}
		switch e := qm["Expression"].(type) {
		case string:
			exprs = append(exprs, e)
		case map[string]any:
			exprs = append(exprs, samtemplate.Str(e["Fn::Sub"]))
		}
	}
	if returning != 1 {
		bad("%d metrics or expressions return data, want exactly 1 (ReturnData: false on the others)", returning)
	}
	if len(periods) > 1 {
		bad("metrics with different periods (%v); an alarm's metrics must share one", slices.Sorted(maps.Keys(periods)))
	}
	for _, e := range exprs {
		bare := subVariable.ReplaceAllString(quoted.ReplaceAllString(e, ""), "0")
		if strings.Contains(bare, "SEARCH(") {
			bad("expression %q: SEARCH cannot be used in an alarm; name each metric", e)
		}
		for _, tok := range identifier.FindAllString(bare, -1) {
			if !ids[tok] {
				bad("expression %q uses %s, which is no Id of the alarm", e, tok)
			}
		}
	}
	return errs
}

// dashboardContents parses a dashboard's body after SubStandIns and returns
// the metrics of its metric widgets and the alarms (logical ids) of its alarm
// widgets; errs says what could not be read.
func dashboardContents(tpl *samtemplate.Template, d samtemplate.Resource) (refs []MetricRef, alarms []string, errs []error) {
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(d.LogicalID+": "+format, args...))
	}
	raw := d.Properties["DashboardBody"]
	body, isString := raw.(string)
	if sub, ok := samtemplate.Map(raw)["Fn::Sub"].(string); ok {
		var es []error
		body, es = SubStandIns(tpl, sub)
		for _, e := range es {
			bad("%v", e)
		}
	} else if !isString {
		bad("DashboardBody must be a string or a string !Sub, got %T", raw)
		return nil, nil, errs
	}
	var doc struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
				Alarms  []any   `json:"alarms"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		bad("DashboardBody is not JSON after !Sub: %v", err)
		return nil, nil, errs
	}
	if len(doc.Widgets) == 0 {
		bad("no widgets")
	}
	for i, w := range doc.Widgets {
		where := fmt.Sprintf("%s widget %d (%q)", d.LogicalID, i+1, w.Properties.Title)
		switch w.Type {
		case "metric":
			if len(w.Properties.Metrics) == 0 {
				bad("widget %d: a metric widget without metrics", i+1)
			}
			for j, row := range w.Properties.Metrics {
				r, ok, err := metricRow(row)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s metric %d: %w", where, j+1, err))
				}
				if ok {
					r.Where = fmt.Sprintf("%s metric %d", where, j+1)
					refs = append(refs, r)
				}
			}
		case "alarm":
			for _, e := range w.Properties.Alarms {
				s, _ := e.(string)
				id, _ := strings.CutSuffix(strings.TrimPrefix(s, "getatt:"), ".Arn")
				if !strings.HasPrefix(s, "getatt:") || !strings.HasSuffix(s, ".Arn") || tpl.Resources[id].Type != "AWS::CloudWatch::Alarm" {
					errs = append(errs, fmt.Errorf("%s: alarm entry %v must be ${<alarm of this template>.Arn}", where, e))
					continue
				}
				alarms = append(alarms, id)
			}
		}
	}
	return refs, alarms, errs
}

// metricRow reads one entry of a metric widget's "metrics": [namespace, name,
// dimension name, value, ..., {options}], or [{"expression": ...}] (ok false).
// The "." and "..." shorthands are refused so that every metric can be
// checked on its own.
func metricRow(row []any) (r MetricRef, ok bool, err error) {
	if len(row) > 0 {
		if opts, isObj := row[0].(map[string]any); isObj {
			if _, has := opts["expression"]; !has || len(row) != 1 {
				return r, false, fmt.Errorf("an object entry must be a lone {\"expression\": ...}")
			}
			return r, false, nil
		}
	}
	var parts []string
	for i, x := range row {
		if _, isObj := x.(map[string]any); isObj && i == len(row)-1 {
			break
		}
		s, isStr := x.(string)
		if !isStr {
			return r, false, fmt.Errorf("%v: want strings, then one options object", row)
		}
		if s == "." || s == "..." {
			return r, false, fmt.Errorf("%v: write the metric in full (no %q shorthand) so it can be checked", row, s)
		}
		parts = append(parts, s)
	}
	if len(parts) < 2 || len(parts)%2 != 0 {
		return r, false, fmt.Errorf("%v: want namespace, metric name and dimension name/value pairs", row)
	}
	r = MetricRef{Namespace: parts[0], Name: parts[1], Dimensions: map[string]string{}}
	for i := 2; i < len(parts); i += 2 {
		r.Dimensions[parts[i]] = parts[i+1]
	}
	return r, true, nil
}

// CheckDashboards checks every AWS::CloudWatch::Dashboard: its body is JSON
// after !Sub (SubStandIns), every metric of its metric widgets passes
// checkMetric, every alarm widget entry is ${<alarm>.Arn} of an alarm of the
// template, and every alarm of the template is on some dashboard's alarm
// widget.
func CheckDashboards(tpl *samtemplate.Template, routeNames map[string]string) []error {
	var errs []error
	shown := map[string]bool{}
	for _, d := range tpl.ResourcesOfType("AWS::CloudWatch::Dashboard") {
		refs, alarms, es := dashboardContents(tpl, d)
		errs = append(errs, es...)
		for _, r := range refs {
			errs = append(errs, checkMetric(tpl, routeNames, r)...)
		}
		for _, a := range alarms {
			shown[a] = true
		}
	}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		if !shown[a.LogicalID] {
			errs = append(errs, fmt.Errorf("%s: not on the alarm widget of any dashboard", a.LogicalID))
		}
	}
	return errs
}

// docMention matches a document an alarm description points to, docSection
// a section of it in quotes.
var (
	docMention = regexp.MustCompile(`docs/[A-Za-z0-9_./-]+\.md`)
	docSection = regexp.MustCompile(`"([^"]+)"`)
)

// CheckDocRefs checks that every alarm's description points at a section of
// docs/runbook.md (`docs/runbook.md "Section"`), and that every section in
// quotes after a docs/*.md mention is a heading of that document. docs maps a
// path such as "docs/runbook.md" to its Markdown.
func CheckDocRefs(tpl *samtemplate.Template, docs map[string]string) []error {
	var errs []error
	headings := map[string][]string{}
	for path, md := range docs {
		headings[path] = markdownHeadings(md)
	}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		desc, _ := standIn(tpl, a.Properties["AlarmDescription"])
		mentions := docMention.FindAllStringIndex(desc, -1)
		runbookSections := 0
		for i, m := range mentions {
			path := desc[m[0]:m[1]]
			end := len(desc)
			if i+1 < len(mentions) {
				end = mentions[i+1][0]
			}
			hs, known := headings[path]
			if !known {
				errs = append(errs, fmt.Errorf("%s: AlarmDescription points to %s, which is not checked here", a.LogicalID, path))
				continue
			}
			for _, q := range docSection.FindAllStringSubmatch(desc[m[1]:end], -1) {
				if !slices.Contains(hs, q[1]) {
					errs = append(errs, fmt.Errorf("%s: %s has no section %q", a.LogicalID, path, q[1]))
				} else if path == "docs/runbook.md" {
					runbookSections++
				}
			}
		}
		if runbookSections == 0 {
			errs = append(errs, fmt.Errorf(`%s: AlarmDescription names no docs/runbook.md section (docs/runbook.md "<heading>")`, a.LogicalID))
		}
	}
	return errs
}

// markdownHeadings returns the headings of md, outside fenced code blocks.
func markdownHeadings(md string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if t := strings.TrimLeft(line, "#"); !fenced && t != line && strings.HasPrefix(t, " ") {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}
