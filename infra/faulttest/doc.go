// Package faulttest holds the fault-injection tests: the booking API, the
// LIS/POS consumers and the outbox publisher run on DynamoDB Local behind
// infra/faultproxy, which throttles, reports TransactionConflict, fails or
// loses responses as AWS can (DynamoDB Local never does). It has no
// non-test code besides this comment.
package faulttest
