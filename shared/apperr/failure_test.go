package apperr

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
	"time"
)

// codeFailures pins the class of every code. A code added to apperr.go
// without a line here fails TestEveryCodeIsClassified.
var codeFailures = map[Code]Failure{
	Validation:           Permanent,
	Unauthenticated:      Permanent,
	Forbidden:            Permanent,
	NotFound:             Transient, // the data may not have arrived yet
	SlotUnavailable:      Transient,
	OutsideSchedule:      Transient,
	CancelCutoff:         Permanent,
	InvalidTransition:    Permanent,
	Conflict:             Transient, // a concurrent change won
	IdempotencyKeyReused: Permanent,
	RequestInProgress:    Transient,
	LimitExceeded:        Permanent,
	PayloadTooLarge:      Permanent,
	Internal:             Transient,
	Unavailable:          Transient, // throttled or busy: retry later
}

func TestCodeClassification(t *testing.T) {
	for code, want := range codeFailures {
		for _, err := range []error{
			E(code, "x"),
			fmt.Errorf("context: %w", E(code, "x")),
			&Error{Code: code, Message: "x", Err: errors.New("cause")},
		} {
			if got, _ := Classify(err); got != want {
				t.Errorf("%v: %v, want %v", err, got, want)
			}
		}
	}
}

// TestEveryCodeIsClassified reads the Code constants of apperr.go, so that a
// new code cannot be left to the default by accident.
func TestEveryCodeIsClassified(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "apperr.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, name := range vs.Names {
				n++
				found := false
				for code := range codeFailures {
					if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Value == `"`+string(code)+`"` {
						found = true
					}
				}
				if !found {
					t.Errorf("code %s has no expected class in codeFailures", name.Name)
				}
			}
		}
	}
	if n != len(codeFailures) {
		t.Errorf("apperr.go declares %d codes, the table has %d", n, len(codeFailures))
	}
}

func TestClassify(t *testing.T) {
	morning := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	later := morning.Add(time.Hour)
	conflict := E(Conflict, "participant settled meanwhile")
	outage := errors.New("connection reset")
	for _, tc := range []struct {
		name  string
		err   error
		want  Failure
		until time.Time
	}{
		{"foreign error", outage, Transient, time.Time{}},
		{"context deadline", context.DeadlineExceeded, Transient, time.Time{}},
		{"marked", MarkPermanent(outage), Permanent, time.Time{}},
		{"marked, wrapped", fmt.Errorf("send: %w", MarkPermanent(outage)), Permanent, time.Time{}},
		{"mark beats a transient code", MarkPermanent(E(NotFound, "gone")), Permanent, time.Time{}},
		{"outer code beats an inner mark", &Error{Code: Conflict, Message: "x", Err: MarkPermanent(outage)}, Transient, time.Time{}},
		{"unknown version", &Error{Code: Validation, Message: "v2", Err: ErrUnknownVersion}, Permanent, time.Time{}},
		{"held", HoldUntil(morning, "quiet hours"), Held, morning},
		{"held, wrapped", fmt.Errorf("notify: %w", HoldUntil(morning, "quiet hours")), Held, morning},
		// Issue 16, failure mode 6: the settlement conflicted (permanent
		// alone in check-up terms is CONFLICT, transient) and cancelling the
		// duplicate failed transiently: the whole must be retried.
		{"joined permanent + transient", errors.Join(E(Validation, "x"), outage), Transient, time.Time{}},
		{"joined conflict + outage (#16 FM6)", errors.Join(MarkPermanent(conflict), outage), Transient, time.Time{}},
		{"joined transient first", errors.Join(outage, MarkPermanent(conflict)), Transient, time.Time{}},
		{"joined all permanent", errors.Join(E(Validation, "a"), MarkPermanent(outage)), Permanent, time.Time{}},
		{"joined permanent + held", errors.Join(E(Validation, "a"), HoldUntil(morning, "q")), Held, morning},
		{"joined held, latest wins", errors.Join(HoldUntil(later, "q"), HoldUntil(morning, "q")), Held, later},
		{"joined, wrapped", fmt.Errorf("settle: %w", errors.Join(E(Forbidden, "a"), outage)), Transient, time.Time{}},
		{"multi-%w", fmt.Errorf("%w and %w", E(Validation, "a"), E(Internal, "b")), Transient, time.Time{}},
		{"joined with nil parts", errors.Join(nil, E(Validation, "a")), Permanent, time.Time{}},
		{"mark over a join", MarkPermanent(errors.Join(E(Validation, "a"), outage)), Permanent, time.Time{}},
	} {
		got, until := Classify(tc.err)
		if got != tc.want || !until.Equal(tc.until) {
			t.Errorf("%s: Classify(%v) = %v %v, want %v %v", tc.name, tc.err, got, until, tc.want, tc.until)
		}
	}
}

func TestMarkPermanent(t *testing.T) {
	base := errors.New("x")
	if MarkPermanent(nil) != nil {
		t.Error("MarkPermanent(nil) is not nil")
	}
	if !errors.Is(MarkPermanent(base), base) || MarkPermanent(base).Error() != "x" {
		t.Error("MarkPermanent hides its cause or changes its text")
	}
	if IsPermanent(nil) || IsPermanent(base) || !IsPermanent(MarkPermanent(base)) {
		t.Error("IsPermanent")
	}
	if !IsUnknownVersion(fmt.Errorf("%w 2", ErrUnknownVersion)) || IsUnknownVersion(base) {
		t.Error("IsUnknownVersion")
	}
	if got := HoldUntil(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), "held by the quiet hours").Error(); got != "held by the quiet hours until 2026-12-02T00:00:00Z" {
		t.Errorf("HeldError text = %q", got)
	}
}
