package schemacheck

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labchain/appointments/infra/samtemplate"
)

// TestTemplateMatchesAWSSchemas validates template.yaml; the tests below
// prove it can fail.
func TestTemplateMatchesAWSSchemas(t *testing.T) {
	ch, doc := checker(t)
	probs, err := ch.Validate(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p)
	}
}

var (
	compileOnce sync.Once
	compiled    *Checker
	compileErr  error
)

func checker(t *testing.T) (*Checker, map[string]any) {
	t.Helper()
	compileOnce.Do(func() { compiled, compileErr = New() })
	if compileErr != nil {
		t.Fatal(compileErr)
	}
	ch := compiled
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return ch, tpl.Document
}

// firstOfType returns the logical id of a resource of the type in doc.
func firstOfType(t *testing.T, doc map[string]any, typ string) string {
	t.Helper()
	var ids []string
	for id, r := range doc["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("template.yaml has no %s", typ)
	}
	sort.Strings(ids)
	return ids[0]
}

func props(doc map[string]any, id string) map[string]any {
	return doc["Resources"].(map[string]any)[id].(map[string]any)["Properties"].(map[string]any)
}

// TestNegativeControls proves the validation can fail: each mutation of the
// real template must be reported, at the right place, and the unmutated
// template must pass (so the finding is the mutation's).
func TestNegativeControls(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, doc map[string]any) string // returns the resource id expected in the finding
		want   string                                        // substring of the finding
	}{
		{"misspelt function property", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::Serverless::Function")
			props(doc, id)["Timout"] = 30
			return id
		}, "Timout"},
		{"string where a function's integer is required", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::Serverless::Function")
			props(doc, id)["Timeout"] = "thirty"
			return id
		}, "/Properties/Timeout"},
		{"string where MemorySize is required, in Globals", func(t *testing.T, doc map[string]any) string {
			doc["Globals"].(map[string]any)["Function"].(map[string]any)["MemorySize"] = "lots"
			return "Globals"
		}, "/Function/MemorySize"},
		{"unknown property on an SQS queue", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::SQS::Queue")
			props(doc, id)["VisibilityTimout"] = 60
			return id
		}, "VisibilityTimout"},
		{"string where a queue's number is required", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::SQS::Queue")
			props(doc, id)["MessageRetentionPeriod"] = "two weeks"
			return id
		}, "/Properties/MessageRetentionPeriod"},
		{"value outside an enum (alarm comparison)", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::CloudWatch::Alarm")
			props(doc, id)["AlarmActions"] = "not-a-list"
			return id
		}, "/Properties/AlarmActions"},
		{"misspelt event property of a SAM function", func(t *testing.T, doc map[string]any) string {
			for _, id := range sortedIDs(doc, "AWS::Serverless::Function") {
				for _, e := range mapOr(props(doc, id)["Events"]) {
					em := e.(map[string]any)
					if em["Type"] == "HttpApi" {
						em["Properties"].(map[string]any)["Methd"] = "GET"
						return id
					}
				}
			}
			t.Fatal("no HttpApi event")
			return ""
		}, "Methd"},
		{"misspelt resource type", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::SQS::Queue")
			doc["Resources"].(map[string]any)[id].(map[string]any)["Type"] = "AWS::SQS::Queu"
			return id
		}, "AWS::SQS::Queu"},
		{"misspelt SAM type", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::Serverless::Function")
			doc["Resources"].(map[string]any)[id].(map[string]any)["Type"] = "AWS::Serverless::Functon"
			return id
		}, "AWS::Serverless::Functon"},
		{"an unknown intrinsic is no intrinsic", func(t *testing.T, doc map[string]any) string {
			id := firstOfType(t, doc, "AWS::Serverless::Function")
			props(doc, id)["Timeout"] = map[string]any{"Fn::Guess": "x"}
			return id
		}, "/Properties/Timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, doc := checker(t)
			if probs, _ := ch.Validate(doc); len(probs) != 0 {
				t.Fatalf("unmutated template fails: %v", probs)
			}
			id := tc.mutate(t, doc)
			probs, err := ch.Validate(doc)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range probs {
				if p.Resource == id && strings.Contains(p.String(), tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a finding on %s mentioning %q, got %v", id, tc.want, probs)
			}
		})
	}
}

// TestIntrinsicsAccepted is the positive control: intrinsics stand for
// scalars, lists and objects.
func TestIntrinsicsAccepted(t *testing.T) {
	ch, doc := checker(t)
	fn := firstOfType(t, doc, "AWS::Serverless::Function")
	props(doc, fn)["Timeout"] = map[string]any{"Ref": "SomeParameter"}
	props(doc, fn)["Layers"] = map[string]any{"Fn::If": []any{"C", []any{"arn:a"}, map[string]any{"Ref": "AWS::NoValue"}}}
	props(doc, fn)["Environment"] = map[string]any{"Fn::If": []any{"C", map[string]any{"Variables": map[string]any{}}, map[string]any{"Ref": "AWS::NoValue"}}}
	q := firstOfType(t, doc, "AWS::SQS::Queue")
	props(doc, q)["VisibilityTimeout"] = map[string]any{"Fn::FindInMap": []any{"M", "a", "b"}}
	props(doc, q)["Tags"] = map[string]any{"Fn::If": []any{"C", []any{}, []any{}}}
	probs, err := ch.Validate(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Errorf("intrinsics rejected: %v", probs)
	}
}

func sortedIDs(doc map[string]any, typ string) []string {
	var ids []string
	for id, r := range doc["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func mapOr(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// TestLookAheadRewrite: the RE2 pattern says what ^(?!AWS::Serverless::).+$ says.
func TestLookAheadRewrite(t *testing.T) {
	re := regexp.MustCompile(notPrefixPattern("AWS::Serverless::"))
	for s, want := range map[string]bool{
		"AWS::SQS::Queue": true, "AWS::Serverless::Function": false, "AWS::Serverless::": false,
		"AWS::Serverless:": true, "AWS::ServerlessX": true, "A": true, "": false, "Custom::Thing": true,
		"aws::serverless::function": true, "AWS::Serverless::Function\nx": false,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("%q: match %v, want %v", s, got, want)
		}
	}
}

// TestPassThroughLinked guards the linking that makes SAM's pass-through
// properties (Timeout, MemorySize, ...) typed at all.
func TestPassThroughLinked(t *testing.T) {
	ch, _ := checker(t)
	if ch.Linked < 50 {
		t.Errorf("only %d SAM pass-through properties linked to CloudFormation (unresolved %v)", ch.Linked, ch.Unresolved)
	}
	t.Logf("linked %d, unresolved (CloudFormation copy too old) %d: %v", ch.Linked, len(ch.Unresolved), ch.Unresolved)
}
