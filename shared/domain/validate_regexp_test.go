package domain

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// matchesLikeRegexp checks f against the regexp it replaces on boundary
// lengths and random strings over alphabet (plus a few bytes outside it).
func matchesLikeRegexp(t *testing.T, name string, f func(string) bool, re *regexp.Regexp, alphabet string, maxLen int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	alphabet += "A-+ é\n"
	accepted := 0
	for n := 0; n < 20000; n++ {
		l := r.IntN(maxLen + 3)
		var b strings.Builder
		for range l {
			if r.IntN(50) == 0 {
				b.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
			} else {
				b.WriteByte(alphabet[r.IntN(len(alphabet)-8)])
			}
		}
		s := b.String()
		if f(s) != re.MatchString(s) {
			t.Errorf("%s(%q) = %v, the regexp says %v", name, s, f(s), re.MatchString(s))
		}
		if f(s) {
			accepted++
		}
	}
	if accepted < 100 {
		t.Errorf("%s: only %d of the random inputs are valid; the comparison says little", name, accepted)
	}
}

func TestValidatorsMatchTheirRegexps(t *testing.T) {
	matchesLikeRegexp(t, "validType", validType, regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`), "abcxyz019_", 52)
	matchesLikeRegexp(t, "validPhone", func(s string) bool { return validPhone("+" + s) },
		regexp.MustCompile(`^[1-9][0-9]{6,14}$`), "0123456789", 17)
	for _, s := range []string{"+6681234567", "+1234567", "+123456789012345"} {
		if !validPhone(s) {
			t.Errorf("validPhone(%q) = false", s)
		}
	}
	for _, s := range []string{"", "+", "6681234567", "+0812345678", "+123456", "+1234567890123456", "+66 812345678"} {
		if validPhone(s) {
			t.Errorf("validPhone(%q) = true", s)
		}
	}
}
