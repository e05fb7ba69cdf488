package localdev

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartWithoutJaeger(t *testing.T) {
	exe, err := os.Executable() // any existing file passes the RIE and Mailpit checks
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Options{Root: "testdata", RIE: exe, MailpitBin: exe,
		Tracing: true, JaegerBin: filepath.Join(t.TempDir(), "jaeger"), Log: &lockedBuffer{}})
	if !errors.Is(err, ErrNoJaeger) || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("err = %v, want ErrNoJaeger", err)
	}
}

func TestJaegerPorts(t *testing.T) {
	if otlp, query := (&resolved{Options: Options{Port: 3000}}).jaegerPorts(); otlp != DefaultOTLPPort || query != DefaultJaegerPort {
		t.Errorf("localdev up: %d, %d", otlp, query)
	}
	if otlp, query := (&resolved{}).jaegerPorts(); otlp != 0 || query != 0 {
		t.Errorf("tests: %d, %d, want free ports", otlp, query)
	}
}
