// Package e2e holds the end-to-end tests: the real function binaries under the
// Lambda runtime emulator, behind the local HTTP API gateway and JWT
// authorizer, over DynamoDB Local — the same path `make dev` serves. Every
// response is checked against docs/openapi.yaml.
package e2e
