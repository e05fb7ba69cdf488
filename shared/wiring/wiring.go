// Package wiring builds, once per cold start, the objects a function's main
// needs, so every main.go stays a few lines of wiring with no decisions in it.
package wiring

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
)

// Booking returns the booking use cases over the DynamoDB table of the
// function's configuration, and the HTTP server (with idempotency records in
// the same table) that adapts them to API Gateway.
func Booking(rt *lambdakit.Runtime) (*app.Service, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(rt.AWS), rt.Config.TableName)
	return app.New(store, time.Now), httpapi.NewServer(store, time.Now, rt.Config)
}

// Public returns an HTTP server for routes that touch no data (health).
func Public(rt *lambdakit.Runtime) *httpapi.Server {
	return httpapi.NewServer(nil, time.Now, rt.Config)
}
