// Package public wires the routes that touch no data (the health check). It
// is apart from package wiring, which builds the DynamoDB store, so that such
// a function links no AWS SDK at all (infra/layercheck, NoAWS).
package public

import (
	"time"

	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
)

// Server returns an HTTP server for routes that touch no data.
func Server(rt *lambdakit.Runtime) *httpapi.Server {
	return httpapi.NewServer(nil, time.Now, rt.Config)
}
