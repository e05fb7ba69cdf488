package httpapi

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
)

// declaredCodes parses shared/apperr and returns every constant of type Code,
// so a code added there without a status here fails this test.
func declaredCodes(t *testing.T) []apperr.Code {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "apperr", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("cannot find apperr sources: %v", err)
	}
	var codes []apperr.Code
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: Code constant with a non-literal value", fset.Position(v.Pos()))
					}
					s, _ := strconv.Unquote(lit.Value)
					codes = append(codes, apperr.Code(s))
				}
			}
		}
	}
	return codes
}

func TestEveryDeclaredCodeHasAStatus(t *testing.T) {
	codes := declaredCodes(t)
	if len(codes) < 14 {
		t.Fatalf("found only %d codes in apperr; the parser missed some", len(codes))
	}
	declared := map[apperr.Code]bool{}
	for _, c := range codes {
		declared[c] = true
		if _, ok := statusByCode[c]; !ok {
			t.Errorf("apperr code %s has no HTTP status in statusByCode", c)
		}
	}
	for c := range statusByCode {
		if !declared[c] {
			t.Errorf("statusByCode maps %s, which apperr does not declare", c)
		}
	}
}

func TestStatusOf(t *testing.T) {
	want := map[apperr.Code]int{
		"VALIDATION_FAILED": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
		"SLOT_UNAVAILABLE": 409, "CONFLICT": 409, "REQUEST_IN_PROGRESS": 409, "OUTSIDE_SCHEDULE": 422,
		"CANCEL_CUTOFF": 422, "INVALID_TRANSITION": 409, "IDEMPOTENCY_KEY_REUSED": 422,
		"LIMIT_EXCEEDED": 422, "PAYLOAD_TOO_LARGE": 413, "INTERNAL": 500,
		"TEMPORARILY_UNAVAILABLE": 503, "SOMETHING_NEW": 500,
	}
	for code, status := range want {
		if got := StatusOf(code); got != status {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, status)
		}
	}
}

func TestClientErrorsKeepTheirMessage(t *testing.T) {
	h := newHarness()
	h.svc.err = apperr.E(apperr.SlotUnavailable, "the 09:00 slot was just taken")
	resp := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	d := expectError(t, resp, 409, "SLOT_UNAVAILABLE")
	if d.Message != "the 09:00 slot was just taken" || d.RequestID != "Ab1CdEfGhIjKlMn=" {
		t.Errorf("envelope = %+v", d)
	}
}

func TestUnavailableIsA503WithRetryAfter(t *testing.T) {
	h := newHarness()
	busy := &apperr.Error{Code: apperr.Unavailable, Message: "busy", Err: errors.New("ProvisionedThroughputExceededException prod-secret-table")}
	h.svc.err = apperr.Wrap(busy, "dynamo: occupancy of b1")
	resp := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	d := expectError(t, resp, 503, "TEMPORARILY_UNAVAILABLE")
	if resp.Headers["Retry-After"] != RetryAfterSeconds {
		t.Errorf("Retry-After = %q", resp.Headers["Retry-After"])
	}
	if strings.Contains(resp.Body, "secret") || strings.Contains(d.Message, "Provisioned") {
		t.Errorf("503 body leaks the cause: %s", resp.Body)
	}
	// A plain 500 has no Retry-After: retrying a bug does not help.
	h = newHarness()
	h.svc.err = errors.New("boom")
	resp = h.serve(t, BookAppointment(h.svc), bookEvent(t))
	expectError(t, resp, 500, "INTERNAL")
	if _, ok := resp.Headers["Retry-After"]; ok {
		t.Error("Retry-After on a 500")
	}
}

func TestServerErrorsHideTheCause(t *testing.T) {
	causes := map[string]error{
		"wrapped":   apperr.Wrap(errors.New("dynamodb: TransactionCanceled table=prod-secret-table"), "create appointment"),
		"foreign":   errors.New("dial tcp 10.0.0.5:443: prod-secret-table unreachable"),
		"unmapped":  apperr.E("SOMETHING_NEW", "prod-secret-table detail"),
		"cancelled": context.Canceled,
	}
	for name, cause := range causes {
		t.Run(name, func(t *testing.T) {
			h := newHarness()
			h.svc.err = cause
			resp := h.serve(t, BookAppointment(h.svc), bookEvent(t))
			d := expectError(t, resp, 500, "INTERNAL")
			if d.Message != "internal error" || strings.Contains(resp.Body, "secret") || strings.Contains(resp.Body, "dynamodb") {
				t.Errorf("500 body leaks the cause: %s", resp.Body)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, cause.Error()) {
				t.Errorf("the cause is not logged:\n%s", logs)
			}
			if !strings.Contains(logs, `"apiRequestId":"Ab1CdEfGhIjKlMn="`) {
				t.Errorf("the log line lacks the id the client sees:\n%s", logs)
			}
			if !strings.Contains(h.metrics.String(), `"ServerErrors":1`) {
				t.Errorf("no ServerErrors metric: %q", h.metrics.String())
			}
			// The request body holds personal data and is never logged.
			if strings.Contains(logs, "Somchai") || strings.Contains(logs, "+66812345678") {
				t.Errorf("the request body leaked into the logs:\n%s", logs)
			}
		})
	}
}

func TestHandlerPanicBecomesA500(t *testing.T) {
	h := newHarness()
	rt := Route{Name: "Boom", Method: "GET", Path: "/v1/boom", Public: true,
		Handle: func(context.Context, *Request) (any, error) { panic("index out of range [3] with length 2") }}
	resp := h.serve(t, rt, loadEvent(t, "apigw-v2-health.json"))
	d := expectError(t, resp, 500, "INTERNAL")
	if strings.Contains(resp.Body, "index out of range") || d.RequestID != "Gh4IjKlMnOpQrSt=" {
		t.Errorf("panic response = %s", resp.Body)
	}
	if !strings.Contains(h.logs.String(), "index out of range") || !strings.Contains(h.logs.String(), "goroutine") {
		t.Errorf("panic and stack not logged:\n%s", h.logs.String())
	}
}

func TestUnmarshalableResultBecomesA500(t *testing.T) {
	h := newHarness()
	rt := Route{Name: "Chan", Method: "GET", Path: "/v1/chan", Public: true,
		Handle: func(context.Context, *Request) (any, error) { return make(chan int), nil }}
	expectError(t, h.serve(t, rt, loadEvent(t, "apigw-v2-health.json")), 500, "INTERNAL")
}
