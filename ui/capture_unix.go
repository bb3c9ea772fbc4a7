//go:build !windows && !darwin

package ui

import (
	"runtime"

	"fyne.io/fyne/v2"
)

// captureGuard would keep w out of screenshots and screen sharing. X11
// and Wayland offer a window no such protection, so it says so.
func captureGuard(w fyne.Window) (protected bool, why string) {
	if runtime.GOOS == "linux" {
		return false, "On Linux (X11 or Wayland) Kite cannot stop screenshots of this window."
	}
	return false, "On this system Kite cannot stop screenshots of this window."
}
