// Command broken does not compile, on purpose: the tests check that the
// platform serves the other functions when one is broken (Options.AllowMissing).
package main

func main() {
	var n int = "not a number"
	_ = n
}
