package samtemplate

import (
	"os"
	"path/filepath"
	"testing"
)

func writeTemplate(t *testing.T, body string) *Template {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestShortFormTagsAndResolution(t *testing.T) {
	tpl := writeTemplate(t, `
Parameters:
  Stage: {Type: String, Default: staging}
  Endpoint: {Type: String, Default: ""}
Conditions:
  HasEndpoint: !Not [!Equals [!Ref Endpoint, ""]]
Globals:
  Function:
    Environment:
      Variables:
        STAGE: !Ref Stage
        OTEL: !If [HasEndpoint, !Ref Endpoint, !Ref AWS::NoValue]
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: PK, KeyType: HASH}], AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]}}
  BookThingFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {TABLE: !Ref Table, ARN: !GetAtt Table.Arn, URL: !Sub "http://${Table}/x"}}
      Events:
        Api: {Type: HttpApi, Properties: {Method: post, Path: /v1/things}}
        Open: {Type: HttpApi, Properties: {Method: GET, Path: /v1/open, Auth: {Authorizer: NONE}}}
`)
	fns := tpl.Functions()
	if len(fns) != 1 || fns[0].Dir() != "functions/book-thing" {
		t.Fatalf("functions = %+v", fns)
	}
	refs := func(n string) (string, bool) {
		switch n {
		case "Table":
			return "local-table", true
		case "Table.Arn":
			return "arn:local-table", true
		}
		return "", false
	}
	env, err := tpl.ResolveEnv(fns[0], Resolver{Ref: refs})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"STAGE": "staging", "TABLE": "local-table", "ARN": "arn:local-table", "URL": "http://local-table/x"}
	if len(env) != len(want) {
		t.Fatalf("env = %v, want %v (OTEL must be dropped as NoValue)", env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env[%s] = %q, want %q", k, env[k], v)
		}
	}
	env, err = tpl.ResolveEnv(fns[0], Resolver{Ref: refs, Params: map[string]string{"Endpoint": "http://otel"}})
	if err != nil || env["OTEL"] != "http://otel" {
		t.Fatalf("OTEL with endpoint = %q (%v)", env["OTEL"], err)
	}
	routes := tpl.Routes()
	if len(routes) != 2 || routes[0].Key() != "GET /v1/open" || !routes[0].Public || routes[1].Key() != "POST /v1/things" || routes[1].Public {
		t.Fatalf("routes = %+v", routes)
	}
	if _, err := tpl.ResolveEnv(Function{LogicalID: "X", Env: map[string]any{"BAD": map[string]any{"Ref": "Nope"}}}, Resolver{Ref: refs}); err == nil {
		t.Fatal("unknown reference must be an error")
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"HealthFunction":             "health",
		"BookAppointmentFunction":    "book-appointment",
		"CheckInAppointmentFunction": "check-in-appointment",
	} {
		if got := FunctionName(in); got != want {
			t.Errorf("FunctionName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRepositoryTemplateTables(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := tpl.TableInput("BookingTable", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if *in.TableName != "t1" || len(in.KeySchema) != 2 || len(in.GlobalSecondaryIndexes) != 2 || in.StreamSpecification == nil {
		t.Fatalf("table input = %+v", in)
	}
	if tpl.TTLAttribute("BookingTable") != "ttl" {
		t.Fatalf("ttl attribute = %q", tpl.TTLAttribute("BookingTable"))
	}
}
