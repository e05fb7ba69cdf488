package app

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestValidIDMatchesItsRegexp: validID accepts exactly what
// ^[A-Za-z0-9_.:-]{1,80}$ accepts.
func TestValidIDMatchesItsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,80}$`)
	const alphabet = "aZ09_.:-"
	r := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for range r.IntN(84) {
			if r.IntN(60) == 0 {
				b.WriteString([]string{"/", " ", "#", "é", "\n"}[r.IntN(5)])
			} else {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		s := b.String()
		if validID(s) != re.MatchString(s) {
			t.Errorf("validID(%q) = %v, the regexp says %v", s, validID(s), re.MatchString(s))
		}
		if validID(s) {
			accepted++
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d valid inputs: the comparison says little", accepted)
	}
}
