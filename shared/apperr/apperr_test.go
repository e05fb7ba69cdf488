package apperr

import (
	"errors"
	"strings"
	"testing"
)

func TestWrapKeepsUnavailable(t *testing.T) {
	busy := &Error{Code: Unavailable, Message: "busy", Err: errors.New("throttled")}
	w := Wrap(busy, "dynamo: occupancy of %s", "b1")
	if w.Code != Unavailable || w.Message != "busy" {
		t.Fatalf("%+v", w)
	}
	if !strings.Contains(w.Error(), "dynamo: occupancy of b1") || !errors.Is(w, busy) {
		t.Fatalf("the wrapping context or the cause is lost: %v", w)
	}
	if got := Wrap(errors.New("x"), "y"); got.Code != Internal {
		t.Fatalf("a plain cause: %s", got.Code)
	}
	if got := Wrap(E(Conflict, "c"), "y"); got.Code != Internal {
		t.Fatalf("only Unavailable is kept, got %s", got.Code)
	}
}
