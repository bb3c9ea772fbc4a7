//go:build darwin && !cgo

package ui

import "fyne.io/fyne/v2"

// captureGuard needs cgo on macOS (NSWindow's sharing type is set in
// Objective-C, capture_darwin.go); a build without cgo says so rather
// than pretend.
func captureGuard(w fyne.Window) (protected bool, why string) {
	return false, "Screen-capture protection is not available in this build."
}
