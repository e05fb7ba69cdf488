package localdev

import (
	"encoding/json"
	"fmt"
	"strings"
)

// filterSet is an event source mapping's FilterCriteria: a record is
// delivered when it matches any of the patterns (or when there are none).
// Patterns use the subset of EventBridge pattern syntax Lambda event
// filtering supports: nested objects, arrays of exact values (strings,
// numbers, booleans, null), and the operators prefix, suffix,
// equals-ignore-case, exists, anything-but (a value, a list, or a prefix)
// and numeric (comparisons such as [">", 0, "<=", 5] and ["=", 3]).
type filterSet []map[string]any

// parseFilters reads FilterCriteria: {Filters: [{Pattern: "<json>"}, ...]}.
func parseFilters(v any, resolve func(any) (string, error)) (filterSet, error) {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil, nil
	}
	list, _ := m["Filters"].([]any)
	var out filterSet
	for i, f := range list {
		fm, _ := f.(map[string]any)
		raw, err := resolve(fm["Pattern"])
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		var pattern map[string]any
		if err := json.Unmarshal([]byte(raw), &pattern); err != nil {
			return nil, fmt.Errorf("filter %d: pattern is not a JSON object: %w", i, err)
		}
		if err := checkPattern(pattern); err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		out = append(out, pattern)
	}
	return out, nil
}

// checkPattern refuses what AWS refuses: leaves must be arrays.
func checkPattern(p map[string]any) error {
	for k, v := range p {
		switch x := v.(type) {
		case map[string]any:
			if err := checkPattern(x); err != nil {
				return fmt.Errorf("%s.%w", k, err)
			}
		case []any:
			for _, c := range x {
				if op, ok := c.(map[string]any); ok {
					if len(op) != 1 {
						return fmt.Errorf("%s: an operator object has exactly one key", k)
					}
					for name := range op {
						switch name {
						case "prefix", "suffix", "equals-ignore-case", "exists", "anything-but", "numeric":
						default:
							return fmt.Errorf("%s: unsupported operator %q", k, name)
						}
					}
				}
			}
		default:
			return fmt.Errorf("%s: a pattern value must be an array or an object", k)
		}
	}
	return nil
}

// match reports whether the event (a decoded JSON object) matches the set.
func (fs filterSet) match(event map[string]any) bool {
	if len(fs) == 0 {
		return true
	}
	for _, p := range fs {
		if matchObject(p, event) {
			return true
		}
	}
	return false
}

func matchObject(pattern, event map[string]any) bool {
	for k, pv := range pattern {
		ev, present := event[k]
		switch x := pv.(type) {
		case map[string]any:
			sub, ok := ev.(map[string]any)
			if !ok || !matchObject(x, sub) {
				return false
			}
		case []any:
			if !matchField(x, ev, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchField matches one field: any of the pattern's values or operators.
// When the event's value is an array, any of its elements may match.
func matchField(alternatives []any, value any, present bool) bool {
	for _, alt := range alternatives {
		if op, ok := alt.(map[string]any); ok {
			if matchOperator(op, value, present) {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		for _, v := range elements(value) {
			if equalJSON(alt, v) {
				return true
			}
		}
	}
	return false
}

func elements(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}

func matchOperator(op map[string]any, value any, present bool) bool {
	for name, arg := range op {
		switch name {
		case "exists":
			want, _ := arg.(bool)
			// exists matches leaves only: an object value is not "existing".
			_, isObject := value.(map[string]any)
			return want == (present && !isObject)
		}
		if !present {
			return false
		}
		switch name {
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return false
			}
			for _, v := range elements(value) {
				vs, ok := v.(string)
				if !ok {
					continue
				}
				switch {
				case name == "prefix" && strings.HasPrefix(vs, s),
					name == "suffix" && strings.HasSuffix(vs, s),
					name == "equals-ignore-case" && strings.EqualFold(vs, s):
					return true
				}
			}
			return false
		case "anything-but":
			for _, v := range elements(value) {
				if !anythingButExcludes(arg, v) {
					return true
				}
			}
			return false
		case "numeric":
			conds, _ := arg.([]any)
			for _, v := range elements(value) {
				if n, ok := v.(float64); ok && numericMatch(conds, n) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// anythingButExcludes reports whether v is one of the values anything-but
// excludes (a value, a list of values, or {"prefix": p}).
func anythingButExcludes(arg, v any) bool {
	switch x := arg.(type) {
	case []any:
		for _, e := range x {
			if equalJSON(e, v) {
				return true
			}
		}
		return false
	case map[string]any:
		if p, ok := x["prefix"].(string); ok {
			s, isString := v.(string)
			return isString && strings.HasPrefix(s, p)
		}
		if p, ok := x["suffix"].(string); ok {
			s, isString := v.(string)
			return isString && strings.HasSuffix(s, p)
		}
		return false
	default:
		return equalJSON(x, v)
	}
}

func numericMatch(conds []any, n float64) bool {
	if len(conds) == 0 || len(conds)%2 != 0 {
		return false
	}
	for i := 0; i+1 < len(conds); i += 2 {
		op, _ := conds[i].(string)
		ref, ok := conds[i+1].(float64)
		if !ok {
			return false
		}
		var ok2 bool
		switch op {
		case "=":
			ok2 = n == ref
		case "<":
			ok2 = n < ref
		case "<=":
			ok2 = n <= ref
		case ">":
			ok2 = n > ref
		case ">=":
			ok2 = n >= ref
		}
		if !ok2 {
			return false
		}
	}
	return true
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return false
}

// eventObject turns an event record into the generic JSON object patterns
// are matched against.
func eventObject(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}
