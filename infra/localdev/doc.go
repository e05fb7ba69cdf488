// Package localdev is the local platform: it runs the system described by
// template.yaml on 127.0.0.1 without Docker, in place of `sam local
// start-api` and `sam local invoke`.
//
// Start brings up DynamoDB Local (infra/dynamolocal) with the template's
// tables and the SQS emulator (infra/sqslocal) with its queues, builds every
// function, runs each bootstrap under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, one process per concurrent
// invocation, pooled per function) and serves the template's routes through an
// emulated API Gateway HTTP API: routing with path variables, the JWT
// authorizer (tokens from Platform.Token or POST /_local/token), payload
// format 2.0 request events and the 2.0 response mapping. It runs the
// functions' other event sources as Lambda does: SQS event source mappings
// (batching window, MaximumConcurrency pollers, partial batch responses,
// redrive through the queue's RedrivePolicy), DynamoDB stream mappings
// (per-shard order, filters, bisect, retries, checkpoints at reported
// failures) and Schedule/ScheduleV2 timers (rate, cron, at; fired on demand
// with Platform.RunSchedule or POST /_local/schedules/{id}/run). Invoke runs
// one function once with an event file.
//
// Patient messages stay local: Start runs Mailpit (infra/mailpit), whose SMTP
// server receives the functions' email (web UI and API at
// Platform.MailpitURL), and the gateway serves a message sink for SMS and
// push (POST/GET/DELETE /_local/messages, with fault injection at
// /_local/faults; Platform.Messages, Platform.InjectFault). The template
// parameters EmailProvider, SmtpEndpoint, SmsProvider, PushProvider and
// MessageSinkUrl point the functions at them.
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
