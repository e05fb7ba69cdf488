// Package devbench holds the benchmarks of the local platform as `make dev`
// serves it (infra/localdev with the repository's template, every function,
// Jaeger tracing, the event sources and schedules running beside the API):
// requests go through the gateway, its JWT authorizer and the runtime
// emulator pool, as a developer's or a load test's would. Each figure runs
// A/B against a same-run baseline (infra/benchab) and lands in `make bench`'s
// table. The package has no non-test code.
package devbench
