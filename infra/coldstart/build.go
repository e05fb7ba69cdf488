package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MakefileGoFlags returns the Makefile's LAMBDA_GOFLAGS (the flags every
// bootstrap is built with) as go build arguments, so the benchmark builds
// exactly what `make build` and `sam build` build.
func MakefileGoFlags(root string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":=")
		if ok && strings.TrimSpace(name) == "LAMBDA_GOFLAGS" {
			return splitWords(strings.TrimSpace(value))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("coldstart: no LAMBDA_GOFLAGS in %s/Makefile", root)
}

// splitWords splits s at spaces outside double quotes and drops the quotes,
// as the shell does with the Makefile's recipe line.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("coldstart: unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Build compiles the packages (import paths relative to root, such as
// "./functions/health") for the host with flags and CGO_ENABLED=0 in one go
// build, into outDir/<last path element>.
func Build(ctx context.Context, root, outDir string, flags []string, pkgs ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", outDir+string(os.PathSeparator))
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("coldstart: go build: %v\n%s", err, out.String())
	}
	return nil
}
