//go:build race

package domain

// raceEnabled turns off timing assertions, which the race detector's
// slowdown would make flaky.
const raceEnabled = true
