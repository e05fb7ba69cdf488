// Command schemarefresh rewrites infra/schemacheck/schemas/cloudformation.schema.json
// from the CloudFormation schema in the goformation Go module, keeping the
// resource types template.yaml uses, those SAM's pass-through properties refer
// to and schemacheck.ExtraTypes. Run from the repository root after adding a
// resource of a new type, or to move to a newer goformation release:
//
//	go run ./infra/cmd/schemarefresh [-version v7.14.9]
//
// It fetches the module through the Go module proxy (`go mod download`); the
// module does not become a dependency of the project.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/infra/schemacheck"
)

const module = "github.com/awslabs/goformation/v7"

func main() {
	version := flag.String("version", "v7.14.9", "goformation release whose schema to copy")
	flag.Parse()
	if err := run(*version); err != nil {
		fmt.Fprintln(os.Stderr, "schemarefresh:", err)
		os.Exit(1)
	}
}

func run(version string) error {
	out, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var dl struct{ Dir string }
	if err := json.Unmarshal(out, &dl); err != nil {
		return err
	}
	full, err := readJSON(filepath.Join(dl.Dir, "schema", "cloudformation.schema.json"))
	if err != nil {
		return err
	}
	sam, err := readJSON(filepath.Join("infra", "schemacheck", "schemas", "sam.schema.json"))
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load("template.yaml")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, r := range tpl.Resources {
		if !strings.HasPrefix(r.Type, "AWS::Serverless::") && !strings.HasPrefix(r.Type, "Custom::") {
			set[r.Type] = true
		}
	}
	// Optional types: kept when this goformation release has them (SAM may
	// pass through to a type newer than the release).
	defs, _ := full["definitions"].(map[string]any)
	for _, t := range append(schemacheck.PassThroughTypes(sam), schemacheck.ExtraTypes...) {
		if _, ok := defs[t]; ok {
			set[t] = true
		} else {
			fmt.Fprintf(os.Stderr, "schemarefresh: %s not in %s@%s, left out\n", t, module, version)
		}
	}
	types := make([]string, 0, len(set))
	for t := range set {
		types = append(types, t)
	}
	sort.Strings(types)
	trimmed, err := schemacheck.Trim(full, types,
		fmt.Sprintf("Trimmed copy of schema/cloudformation.schema.json from %s@%s (Apache-2.0, see LICENSE-goformation); written by go run ./infra/cmd/schemarefresh", module, version))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(trimmed, "", " ")
	if err != nil {
		return err
	}
	dst := filepath.Join("infra", "schemacheck", "schemas", "cloudformation.schema.json")
	if err := os.WriteFile(dst, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d resource types, %d definitions, %d bytes\n", dst, len(types), len(trimmed["definitions"].(map[string]any)), len(b))
	return nil
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
