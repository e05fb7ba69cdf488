package templatecheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// realProd are values a prod deploy would pass for ProdMustOverride.
var realProd = map[string]string{
	"Environment":        "prod",
	"JwtIssuer":          "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_AbCdEf123",
	"JwtAudience":        "4k8q1rkv0example0client",
	"CorsAllowedOrigins": "https://portal.labchain.co.th,https://app.labchain.co.th",
}

func failed(t *testing.T, params map[string]string) []string {
	t.Helper()
	got, err := FailedAssertions(load(t), params)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestProdRefusesExampleParameters: CloudFormation evaluates Rules before
// any change, so a prod deploy that leaves one of JwtIssuer, JwtAudience or
// CorsAllowedOrigins at its example default fails, and names it.
func TestProdRefusesExampleParameters(t *testing.T) {
	if got := failed(t, realProd); len(got) != 0 {
		t.Errorf("prod with real values refused: %v", got)
	}
	if got := failed(t, map[string]string{"Environment": "staging"}); len(got) != 0 {
		t.Errorf("staging with the examples refused: %v", got)
	}
	if got := failed(t, map[string]string{"Environment": "prod"}); len(got) != len(ProdMustOverride) {
		t.Errorf("prod with every example: %d failed assertions %v, want %d", len(got), got, len(ProdMustOverride))
	}
	for _, name := range ProdMustOverride {
		params := map[string]string{}
		for k, v := range realProd {
			if k != name {
				params[k] = v
			}
		}
		got := failed(t, params)
		if len(got) != 1 || !strings.Contains(got[0], name) {
			t.Errorf("prod with the example %s: failed %v, want one assertion naming %s", name, got, name)
		}
	}
	// One example origin among real ones is still the example.
	params := map[string]string{}
	for k, v := range realProd {
		params[k] = v
	}
	params["CorsAllowedOrigins"] = "https://portal.labchain.co.th,https://portal.example.com"
	if got := failed(t, params); len(got) != 1 {
		t.Errorf("prod with an example origin among real ones: failed %v", got)
	}
}

var overrides = regexp.MustCompile(`(?m)^\[(\w+)\.deploy\.parameters\][^\[]*?parameter_overrides\s*=\s*"([^"]*)"`)

// TestSamconfigProdDeployRefused: `sam deploy --config-env prod` as
// samconfig.toml has it (no real issuer, audience, origins: those are given at
// deploy time) is refused by the Rules; every config env names Environment,
// which has no default.
func TestSamconfigProdDeployRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	envs := overrides.FindAllStringSubmatch(string(b), -1)
	if len(envs) == 0 {
		t.Fatal("no [<env>.deploy.parameters] parameter_overrides in samconfig.toml")
	}
	sawProd := false
	for _, e := range envs {
		params := map[string]string{}
		for _, kv := range strings.Fields(e[2]) {
			k, v, _ := strings.Cut(kv, "=")
			params[k] = strings.Trim(v, `"'`)
		}
		if params["Environment"] == "" {
			t.Errorf("samconfig.toml [%s]: parameter_overrides must name Environment (it has no default)", e[1])
		}
		if params["Environment"] == "prod" {
			sawProd = true
			if got := failed(t, params); len(got) == 0 {
				t.Errorf("samconfig.toml [%s] deploys prod with example values and the Rules let it", e[1])
			}
		}
	}
	if !sawProd {
		t.Error("samconfig.toml has no prod deploy section")
	}
}
