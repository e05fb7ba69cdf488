// Package localdev is the local platform: it runs the system described by
// template.yaml on 127.0.0.1 without Docker, in place of `sam local
// start-api` and `sam local invoke`.
//
// Start brings up DynamoDB Local (infra/dynamolocal) with the template's
// tables, builds every function, runs each bootstrap under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, one process per concurrent
// invocation, pooled per function) and serves the template's routes through an
// emulated API Gateway HTTP API: routing with path variables, the JWT
// authorizer (tokens from Platform.Token or POST /_local/token), payload
// format 2.0 request events and the 2.0 response mapping. Invoke runs one
// function once with an event file.
//
// End-to-end tests use it like this:
//
//	p, err := localdev.Start(ctx, localdev.Options{Seed: true})
//	if err != nil { ... }
//	defer p.Close()
//	token, _ := p.Token(localdev.TokenRequest{Role: localdev.RoleStaff, BranchIDs: []string{p.Seed().BranchID}})
//	// requests to p.URL() + "/v1/...", with "Authorization: Bearer " + token
//
// Every process it starts runs in its own process group and, on Linux, is
// killed by the kernel if this process dies; Close stops them all.
package localdev
