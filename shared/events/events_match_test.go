package events

import (
	"math/rand"
	"regexp"
	"testing"
)

// TestShapesMatchTheirRegexps: the loops accept exactly what the regexps
// they replace accept, on near-valid random strings and edge cases.
func TestShapesMatchTheirRegexps(t *testing.T) {
	tp := regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	ty := regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	r := rand.New(rand.NewSource(1))
	mutate := func(s, alphabet string) string {
		b := []byte(s)
		for n := r.Intn(3); n > 0 && len(b) > 0; n-- {
			switch i := r.Intn(len(b)); r.Intn(3) {
			case 0:
				b[i] = alphabet[r.Intn(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[r.Intn(len(alphabet))]}, b[i:]...)...)
			}
		}
		return string(b)
	}
	agreeTP, agreeTy := 0, 0
	for i := 0; i < 200000; i++ {
		s := mutate("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "0123456789abcdefABX-g ")
		if got, want := traceParentShape(s), tp.MatchString(s); got != want {
			t.Fatalf("traceParentShape(%q) = %v, regexp %v", s, got, want)
		} else if want {
			agreeTP++
		}
		s = mutate([]string{"appointment.booked", "a.b", "lab_result.ready.v2", "x"}[r.Intn(4)], "az09_.A-é")
		if got, want := typeShape(s), ty.MatchString(s); got != want {
			t.Fatalf("typeShape(%q) = %v, regexp %v", s, got, want)
		} else if want {
			agreeTy++
		}
	}
	if agreeTP == 0 || agreeTy == 0 {
		t.Fatalf("no accepted input generated (%d, %d): the comparison saw only rejections", agreeTP, agreeTy)
	}
	for _, s := range []string{"", ".", "a.", ".a", "a..b", "a.b.", "A.b", "a.b\n"} {
		if typeShape(s) != ty.MatchString(s) {
			t.Errorf("typeShape(%q) disagrees", s)
		}
	}
}
