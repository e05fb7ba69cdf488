// Command health is the Lambda behind GET /v1/health (no auth).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring"
)

func main() {
	rt := lambdakit.MustInit(context.Background())
	lambdakit.StartHTTP(rt, wiring.Public(rt).Handle(httpapi.Health()))
}
