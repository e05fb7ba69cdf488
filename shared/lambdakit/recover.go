package lambdakit

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/lambda"
)

// PanicError is the error Recover returns in place of a panic.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine stack at the panic, for logs only.
	Stack []byte
}

// Error describes the panic value; the stack is left to the logs.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Recover turns a panic below it into a *PanicError, logged at error level with
// its stack. Without it the aws-lambda-go runtime reports the panic and then
// exits the process, so the next request pays a cold start.
func Recover(next lambda.Handler) lambda.Handler {
	return HandlerFunc(func(ctx context.Context, payload []byte) (out []byte, err error) {
		defer func() {
			if v := recover(); v != nil {
				stack := debug.Stack()
				Logger(ctx).ErrorContext(ctx, "panic recovered", "panic", fmt.Sprint(v), "stack", string(stack))
				out, err = nil, &PanicError{Value: v, Stack: stack}
			}
		}()
		return next.Invoke(ctx, payload)
	})
}
