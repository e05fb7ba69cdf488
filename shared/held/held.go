// Package held is the message that a consumer holds outside its queue until
// a given time (a notification held by the quiet hours): shared by the
// consumer kit (which holds), the store (which keeps) and the SQS adapter
// (which sends it back). Stdlib only.
package held

import "time"

// Message is a message held until Until outside its queue.
type Message struct {
	// Key is the message's dedupe key, scoped by consumer
	// ("consumer#<name>#<dedupe key>"): holding the same message again
	// replaces its hold.
	Key string
	// Body and Attributes (the String message attributes) are sent again
	// as they were received.
	Body       string
	Attributes map[string]string
	// Until is when the message is to be sent back to its queue.
	Until time.Time
}
