package memstore_test

import (
	"testing"

	"github.com/labchain/appointments/shared/memstore"
	"github.com/labchain/appointments/shared/storetest"
)

// TestContract runs the store contract on the in-memory store.
func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memstore.New() })
}
