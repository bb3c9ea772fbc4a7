//go:build windows || darwin

package ui

import "fyne.io/fyne/v2"

// captureGuard would keep w out of screenshots and screen sharing
// (SetWindowDisplayAffinity with WDA_EXCLUDEFROMCAPTURE on Windows,
// NSWindow.sharingType = none on macOS). This build does not do it, and
// says so rather than pretend.
func captureGuard(w fyne.Window) (protected bool, why string) {
	return false, "Screen-capture protection is not available in this build."
}
