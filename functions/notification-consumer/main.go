// Command notification-consumer is the Lambda on the notifications queue that sends patient messages by SMS, email and push (see template.yaml, NotificationConsumerFunction).
package main

import (
	"context"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/wiring/notifications"
)

func main() {
	rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable, config.Config.RequireDeadLetterQueue)
	lambdakit.StartTyped(rt, notifications.NotificationConsumer(rt).Handle)
}
