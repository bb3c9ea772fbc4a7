// Package kite holds the repository-wide tests (import rules, package
// docs). The program is cmd/kite; the design is in DESIGN.md.
package kite
