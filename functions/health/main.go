// Command health is the Lambda behind GET /v1/health (no auth).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/public"
)

func main() {
	rt := lambdakit.MustInit(context.Background())
	lambdakit.StartHTTP(rt, public.Server(rt).Handle(httpapi.Health()))
}
