// Package wiring builds, once per cold start, the objects a function's main
// needs, so every main.go stays a few lines of wiring with no decisions in it.
// This package wires the HTTP routes (the use cases over DynamoDB and the
// HTTP server); each other area has its own subpackage (checkup,
// integrations, notifications, publish, public, scheduled), so that a
// function links only what its area uses: a catalog route carries no SES,
// SNS, SQS or notification templates, and the health check (public) no AWS
// SDK at all (pinned by infra/layercheck).
package wiring

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/awssdk"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
)

// Booking returns the booking use cases over the DynamoDB table of the
// function's configuration, and the HTTP server (with idempotency records in
// the same table) that adapts them to API Gateway.
func Booking(rt *lambdakit.Runtime) (*app.Service, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(awssdk.MustLoad(rt)), rt.Config.TableName)
	svc := app.New(store, time.Now).WithMaxActiveBookings(rt.Config.MaxActiveBookingsPerPatient)
	return svc, httpapi.NewServer(store, time.Now, rt.Config)
}

// Notifications returns the patient-communication use cases (preferences,
// devices, delivery log) over the function's table and the HTTP server.
func Notifications(rt *lambdakit.Runtime) (*app.Notifications, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(awssdk.MustLoad(rt)), rt.Config.TableName)
	svc := app.New(store, time.Now)
	return app.NewNotifications(svc, store), httpapi.NewServer(store, time.Now, rt.Config)
}

// PatientViews returns the "me" use cases (the caller's own profile and
// visits) over the function's table and the HTTP server that serves them.
func PatientViews(rt *lambdakit.Runtime) (*app.PatientViews, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(awssdk.MustLoad(rt)), rt.Config.TableName)
	return app.NewPatientViews(store, time.Now), httpapi.NewServer(store, time.Now, rt.Config)
}

// CheckupReports returns the campaign reports over the function's table and
// the HTTP server that serves them.
func CheckupReports(rt *lambdakit.Runtime) (*app.Checkup, *httpapi.Server) {
	store := dynamo.New(dynamodb.NewFromConfig(awssdk.MustLoad(rt)), rt.Config.TableName)
	return app.NewCheckup(app.New(store, time.Now), store, nil), httpapi.NewServer(store, time.Now, rt.Config)
}

// ColdStartFailed logs err and exits, as lambdakit.MustInit does, so the
// function fails its cold start visibly instead of every invocation.
func ColdStartFailed(rt *lambdakit.Runtime, err error) {
	rt.Logger.Error("cold start failed", lambdakit.FieldFunction, rt.FunctionName, "error", err.Error())
	_ = rt.Shutdown(context.Background())
	os.Exit(1)
}
