// Command get-me is the Lambda behind one HTTP route (see template.yaml, GetMeFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable)
	uc, srv := wiring.PatientViews(rt)
	lambdakit.StartHTTP(rt, srv.Handle(httpapi.GetMe(uc)))
}
