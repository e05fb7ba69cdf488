package mailpit

import (
	"context"
	"os"
	"testing"
	"time"
)

// ForTest starts a Mailpit for one test and closes it when the test ends.
// When the binary (opts.Bin or DefaultBin) is missing it skips the test
// under -short and fails it otherwise: `make test` installs it first.
func ForTest(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := opts.Bin
	if bin == "" {
		b, err := DefaultBin()
		if err != nil {
			tb.Fatal(err)
		}
		bin = b
	}
	if _, err := os.Stat(bin); err != nil {
		if testing.Short() {
			tb.Skipf("mailpit is not installed (%s); skipped with -short (run `make tools`)", bin)
		}
		tb.Fatalf("mailpit is not installed (%s): run `make tools` (or `make test`)", bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
