package templatecheck

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/labchain/appointments/infra/samtemplate"
)

// ProdMustOverride are the parameters whose defaults are examples: a prod
// deploy must give real values (the template's Rules refuse the defaults).
var ProdMustOverride = []string{"JwtIssuer", "JwtAudience", "CorsAllowedOrigins"}

// FailedAssertions evaluates the template's Rules as CloudFormation does
// before a deploy: with params (parameter defaults for the others) it returns
// the AssertDescription of every assertion that fails in a rule whose
// RuleCondition holds. It knows the rule functions Ref, Fn::Equals, Fn::Not,
// Fn::And, Fn::Or, Fn::Contains and Fn::EachMemberIn; others are errors.
func FailedAssertions(tpl *samtemplate.Template, params map[string]string) ([]string, error) {
	value := func(name string) (any, error) {
		p, ok := tpl.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("parameter %s (Ref): no such parameter", name)
		}
		s, given := params[name]
		if !given {
			if l, ok := p.Default.([]any); ok {
				return l, nil
			}
			if p.Default == nil {
				return nil, fmt.Errorf("parameter %s has no value and no default", name)
			}
			s = samtemplate.Str(p.Default)
		}
		if strings.HasPrefix(p.Type, "CommaDelimitedList") || strings.HasPrefix(p.Type, "List<") {
			var l []any
			for _, x := range strings.Split(s, ",") {
				l = append(l, strings.TrimSpace(x))
			}
			return l, nil
		}
		return s, nil
	}
	var eval func(v any) (any, error)
	eval = func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		if len(m) != 1 {
			return nil, fmt.Errorf("not a rule function: %v", v)
		}
		for fn, arg := range m {
			args, _ := arg.([]any)
			vals := make([]any, len(args))
			for i, a := range args {
				x, err := eval(a)
				if err != nil {
					return nil, err
				}
				vals[i] = x
			}
			switch fn {
			case "Ref":
				return value(samtemplate.Str(arg))
			case "Fn::Equals":
				if len(vals) != 2 {
					return nil, fmt.Errorf("Fn::Equals needs 2 arguments")
				}
				return fmt.Sprint(vals[0]) == fmt.Sprint(vals[1]), nil
			case "Fn::Not":
				if len(vals) != 1 {
					return nil, fmt.Errorf("Fn::Not needs 1 argument")
				}
				b, ok := vals[0].(bool)
				return !b, boolErr(ok, fn)
			case "Fn::And", "Fn::Or":
				all, any := true, false
				for _, x := range vals {
					b, ok := x.(bool)
					if !ok {
						return nil, boolErr(false, fn)
					}
					all, any = all && b, any || b
				}
				if fn == "Fn::And" {
					return all, nil
				}
				return any, nil
			case "Fn::Contains", "Fn::EachMemberIn":
				if len(vals) != 2 {
					return nil, fmt.Errorf("%s needs 2 arguments", fn)
				}
				list, _ := vals[0].([]any)
				if fn == "Fn::Contains" {
					return slices.ContainsFunc(list, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(vals[1]) }), nil
				}
				allowed, _ := vals[1].([]any)
				for _, x := range list {
					if !slices.ContainsFunc(allowed, func(y any) bool { return fmt.Sprint(x) == fmt.Sprint(y) }) {
						return false, nil
					}
				}
				return true, nil
			}
			return nil, fmt.Errorf("rule function %s not supported here", fn)
		}
		return nil, nil
	}
	rules := samtemplate.Map(tpl.Document["Rules"])
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	var failed []string
	for _, n := range names {
		r := samtemplate.Map(rules[n])
		if c, ok := r["RuleCondition"]; ok {
			v, err := eval(c)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", n, err)
			}
			if b, _ := v.(bool); !b {
				continue
			}
		}
		for _, a := range list(r["Assertions"]) {
			am := samtemplate.Map(a)
			v, err := eval(am["Assert"])
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", n, err)
			}
			if b, _ := v.(bool); !b {
				failed = append(failed, n+": "+samtemplate.Str(am["AssertDescription"]))
			}
		}
	}
	return failed, nil
}

func boolErr(ok bool, fn string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s needs conditions", fn)
}

// ReadOnlyClaims are the user pool attributes the API trusts for
// authorization; a user who could write them could read another patient's
// visits or act in another branch.
var ReadOnlyClaims = []string{"custom:patient_id", "custom:branch_ids"}

// CheckUserPoolClients checks every Cognito app client of the template lists
// WriteAttributes (the default is every attribute writable by the user)
// without the ReadOnlyClaims.
func CheckUserPoolClients(tpl *samtemplate.Template) []error {
	var errs []error
	for _, c := range tpl.ResourcesOfType("AWS::Cognito::UserPoolClient") {
		w, ok := c.Properties["WriteAttributes"]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no WriteAttributes, so users may write %v themselves", c.LogicalID, ReadOnlyClaims))
			continue
		}
		for _, a := range list(w) {
			if slices.Contains(ReadOnlyClaims, samtemplate.Str(a)) {
				errs = append(errs, fmt.Errorf("%s: users may write %v (authorization trusts it)", c.LogicalID, a))
			}
		}
	}
	return errs
}
