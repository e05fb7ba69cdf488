package samtemplate

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tables returns a CreateTableInput for every AWS::DynamoDB::Table, keyed by
// logical id. TableName is the template's TableName property or the logical id.
func (t *Template) Tables() (map[string]*dynamodb.CreateTableInput, error) {
	out := map[string]*dynamodb.CreateTableInput{}
	for _, r := range t.ResourcesOfType("AWS::DynamoDB::Table") {
		in, err := tableInput(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.LogicalID, err)
		}
		out[r.LogicalID] = in
	}
	return out, nil
}

// TableInput returns the CreateTableInput of one table under the given name, so
// tests can create a fresh copy per test.
func (t *Template) TableInput(logicalID, name string) (*dynamodb.CreateTableInput, error) {
	r, ok := t.Resources[logicalID]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("no table %s in template", logicalID)
	}
	in, err := tableInput(r)
	if err != nil {
		return nil, err
	}
	in.TableName = aws.String(name)
	return in, nil
}

func tableInput(r Resource) (*dynamodb.CreateTableInput, error) {
	p := r.Properties
	name := str(p["TableName"])
	if name == "" {
		name = r.LogicalID
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	if str(p["BillingMode"]) == "PROVISIONED" {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	for _, a := range list(p["AttributeDefinitions"]) {
		m := mapOf(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(str(m["AttributeName"])),
			AttributeType: types.ScalarAttributeType(str(m["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	if len(in.KeySchema) == 0 {
		return nil, fmt.Errorf("no KeySchema")
	}
	for _, g := range list(p["GlobalSecondaryIndexes"]) {
		m := mapOf(g)
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(str(m["IndexName"])),
			KeySchema:  keySchema(m["KeySchema"]),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(str(mapOf(m["Projection"])["ProjectionType"]))},
		}
		if in.ProvisionedThroughput != nil {
			gsi.ProvisionedThroughput = in.ProvisionedThroughput
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if s := mapOf(p["StreamSpecification"]); str(s["StreamViewType"]) != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(str(s["StreamViewType"])),
		}
	}
	return in, nil
}

// TTLAttribute returns the table's TimeToLiveSpecification attribute, if enabled.
func (t *Template) TTLAttribute(logicalID string) string {
	ttl := mapOf(t.Resources[logicalID].Properties["TimeToLiveSpecification"])
	if ttl["Enabled"] == true {
		return str(ttl["AttributeName"])
	}
	return ""
}

func keySchema(v any) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range list(v) {
		m := mapOf(k)
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(str(m["AttributeName"])),
			KeyType:       types.KeyType(str(m["KeyType"])),
		})
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}
