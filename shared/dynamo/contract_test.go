package dynamo

import (
	"testing"

	"github.com/labchain/appointments/shared/storetest"
)

// TestContract runs the store contract (shared/storetest, which the
// in-memory store passes too) on DynamoDB Local.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, _ := newStore(t)
		return s
	})
}
