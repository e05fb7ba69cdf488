package schemacheck

import (
	"fmt"
	"sort"
	"strings"
)

// ExtraTypes are kept in the CloudFormation copy although template.yaml does
// not use them yet, so adding one of these common resources needs no refresh.
var ExtraTypes = []string{
	"AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
	"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
	"AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::LayerVersion",
	"AWS::Logs::LogGroup", "AWS::Logs::MetricFilter", "AWS::KMS::Key", "AWS::KMS::Alias",
	"AWS::S3::Bucket", "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy",
	"AWS::Scheduler::Schedule", "AWS::Events::Rule", "AWS::SSM::Parameter", "AWS::SecretsManager::Secret",
	"AWS::CloudWatch::CompositeAlarm",
}

// PassThroughTypes returns the CloudFormation resource types SAM's
// pass-through properties refer to (AWS::Lambda::Function for Timeout, ...).
func PassThroughTypes(sam map[string]any) []string {
	set := map[string]bool{}
	for _, pt := range passThroughs(sam) {
		set[strings.SplitN(fmt.Sprint(pt.path[1]), ".", 2)[0]] = true
	}
	return sortedSet(set)
}

// Trim returns the part of goformation's cloudformation.schema.json that the
// given resource types need: their definitions and every definition they
// refer to, transitively. Unknown types are an error.
func Trim(full map[string]any, types []string, description string) (map[string]any, error) {
	defs, _ := full["definitions"].(map[string]any)
	keep := map[string]any{}
	var add func(name string) error
	add = func(name string) error {
		if _, done := keep[name]; done {
			return nil
		}
		d, ok := defs[name]
		if !ok {
			return fmt.Errorf("definition %q not in the CloudFormation schema", name)
		}
		keep[name] = d
		var err error
		walk(d, func(m map[string]any) {
			if r, ok := m["$ref"].(string); ok && err == nil {
				if !strings.HasPrefix(r, "#/definitions/") {
					err = fmt.Errorf("%s: unexpected $ref %q", name, r)
					return
				}
				err = add(strings.TrimPrefix(r, "#/definitions/"))
			}
		})
		return err
	}
	for _, t := range types {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	return map[string]any{
		"$schema":     "http://json-schema.org/draft-04/schema#",
		"description": description,
		"definitions": keep,
	}, nil
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
