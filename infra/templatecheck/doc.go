// Package templatecheck holds the tests that keep template.yaml honest where no
// SAM CLI can run: every function's code exists and builds (also through the
// SAM makefile build method), every route maps to a function, a registered
// handler and a documented operation, every environment reference names a
// declared resource, and every function's policy grants only what it uses.
package templatecheck
