//go:build windows

package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"unsafe"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"golang.org/x/sys/windows"
)

var (
	user32                       = windows.NewLazySystemDLL("user32.dll")
	procSetWindowDisplayAffinity = user32.NewProc("SetWindowDisplayAffinity")
	procGetWindowDisplayAffinity = user32.NewProc("GetWindowDisplayAffinity")
)

// captureGuard keeps w out of screenshots and screen sharing with
// SetWindowDisplayAffinity: WDA_EXCLUDEFROMCAPTURE where Windows has it
// (10 version 2004 on), else WDA_MONITOR (captures show a black box).
// w must have been shown (before, it has no HWND), and this runs on the
// UI thread, the one that made the window.
func captureGuard(w fyne.Window) (protected bool, why string) {
	hwnd := nativeHandle(w, func(context any) (uintptr, bool) {
		c, ok := context.(driver.WindowsWindowContext)
		return c.HWND, ok
	})
	if hwnd == 0 {
		slog.Warn("ui: capture guard: the window has no native handle")
		return false, captureFailed
	}
	set := func(affinity uint32) error {
		if err := procSetWindowDisplayAffinity.Find(); err != nil {
			return err // before Windows 7
		}
		r, _, err := procSetWindowDisplayAffinity.Call(hwnd, uintptr(affinity))
		if r == 0 {
			return fmt.Errorf("SetWindowDisplayAffinity: %w", lastError(err))
		}
		return nil
	}
	get := func() (uint32, error) {
		if err := procGetWindowDisplayAffinity.Find(); err != nil {
			return 0, err
		}
		var a uint32
		r, _, err := procGetWindowDisplayAffinity.Call(hwnd, uintptr(unsafe.Pointer(&a)))
		if r == 0 {
			return 0, fmt.Errorf("GetWindowDisplayAffinity: %w", lastError(err))
		}
		return a, nil
	}
	v := windows.RtlGetVersion()
	protected, why, err := guardWindows(v.BuildNumber, set, get)
	if err != nil {
		slog.Warn("ui: capture guard", "build", v.BuildNumber, "protected", protected, "err", err)
	}
	return protected, why
}

// lastError is the error a failed user32 call left; Call always returns a
// non-nil one, which says "success" when the function set none.
func lastError(err error) error {
	var errno windows.Errno
	if errors.As(err, &errno) && errno == 0 {
		return errors.New("failed without an error code")
	}
	return err
}
