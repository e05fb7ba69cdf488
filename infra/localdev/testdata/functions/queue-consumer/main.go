// Command queue-consumer is a test function of package localdev (see package testfn).
package main

import "github.com/labchain/appointments/infra/localdev/testdata/functions/internal/testfn"

func main() { testfn.Start() }
