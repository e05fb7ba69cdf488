// Command benchtable turns the output of `go test -bench` (read from stdin)
// into the one table `make bench` prints: one row per benchmark with its
// figure, its same-run baseline and their ratio (infra/benchab's units and
// labels). The raw output stays in a file (build/bench.txt); only the table
// goes to stdout. It exits 1, with the reason on stderr, when a benchmark or
// a package failed or a benchmark reports no baseline.
package main

import (
	"bufio"
	"fmt"

	"os"
)

func main() {
	rows, err := Parse(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := Write(os.Stdout, rows); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
