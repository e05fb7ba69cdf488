package coldstart

import (
	"reflect"
	"testing"
)

func TestMakefileGoFlags(t *testing.T) {
	got, err := MakefileGoFlags("../..")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LAMBDA_GOFLAGS = %q, want %q (update the benchmark's expectations with the Makefile)", got, want)
	}
	if _, err := splitWords(`-ldflags="-s`); err == nil {
		t.Error("unbalanced quote accepted")
	}
}
