package localdev

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BuildFlags are the flags every bootstrap is built with, the same as the
// Makefile's LAMBDA_GOFLAGS (and CGO_ENABLED=0).
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Build compiles the named functions (folder names under <root>/functions)
// for the host OS and architecture into <outDir>/<name>/bootstrap. It runs one
// `go build` for all of them, so shared packages compile once and in parallel,
// and reports progress on log. It returns the bootstrap paths by name.
func Build(ctx context.Context, root, outDir string, names []string, log io.Writer) (map[string]string, error) {
	if log == nil {
		log = io.Discard
	}
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	args := append([]string{"build", "-v"}, BuildFlags...)
	args = append(args, "-o", tmp+string(os.PathSeparator))
	pkgs := map[string]string{} // import path suffix -> name
	for _, n := range names {
		args = append(args, "./functions/"+n)
		pkgs["/functions/"+n] = n
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)

	// `go build -v` names each package as it compiles it; the function
	// packages are the progress worth showing.
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	var (
		output   bytes.Buffer
		compiled atomic.Int64 // packages `go build -v` has named so far
	)
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localdev: go build: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		done := 0
		for sc.Scan() {
			line := sc.Text()
			output.WriteString(line + "\n")
			compiled.Add(1)
			for suffix, name := range pkgs {
				if strings.HasSuffix(line, suffix) {
					done++
					fmt.Fprintf(log, "  compiled %-28s (%d/%d, %.1fs)\n", name, done, len(names), time.Since(begin).Seconds())
				}
			}
		}
	}()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(log, "  … still building (%.0fs, %d packages compiled; the first build compiles the AWS SDK and OpenTelemetry too)\n",
					time.Since(begin).Seconds(), compiled.Load())
			}
		}
	}()
	wg.Wait()
	err = cmd.Wait()
	close(stop)
	if err != nil {
		return nil, fmt.Errorf("localdev: go build failed: %w\n%s", err, buildErrors(output.String()))
	}

	out := make(map[string]string, len(names))
	for _, n := range names {
		dir := filepath.Join(outDir, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(tmp, n), dst); err != nil {
			return nil, fmt.Errorf("localdev: install %s: %w", dst, err)
		}
		out[n] = dst
	}
	return out, nil
}

// buildErrors drops the package names `go build -v` prints, keeping the
// compiler's messages.
func buildErrors(output string) string {
	var keep []string
	for _, line := range strings.Split(output, "\n") {
		if line == "" || !strings.ContainsAny(line, " :") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
