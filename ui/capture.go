package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// What the view-once viewer says about screen capture. Shown to people.
const (
	captureExcluded = "Screenshots and screen sharing leave this window out."
	captureBlacked  = "Screenshots and screen sharing show this window as a black box."
	captureFailed   = "Kite could not stop screenshots of this window."
	captureMacLate  = "Kite asked macOS to keep this window out of screenshots, but macOS 15 and later may still capture it."
)

// nativeHandle is w's platform window handle as pick finds it in the
// context RunNative passes, or 0. Fyne's desktop driver calls the function
// at once, on the calling goroutine, and the handle is 0 until the window
// has been shown: call it on the UI thread, after Show.
func nativeHandle(w fyne.Window, pick func(context any) (uintptr, bool)) uintptr {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return 0
	}
	var h uintptr
	nw.RunNative(func(context any) {
		if v, ok := pick(context); ok {
			h = v
		}
	})
	return h
}

// Display affinities of SetWindowDisplayAffinity (winuser.h).
const (
	wdaMonitor            = 0x01
	wdaExcludeFromCapture = 0x11
)

// winBuildExclude is Windows 10 version 2004, the first build that knows
// WDA_EXCLUDEFROMCAPTURE. Older builds accept it yet apply WDA_MONITOR
// without saying so, so they are not asked for it.
const winBuildExclude = 19041

// guardWindows keeps a window out of captures on Windows: excluded where
// the build can, else blacked out. set applies a display affinity and get
// reads back the one in force, so what is reported is what Windows holds,
// not what was asked. err says what failed, for the log.
func guardWindows(build uint32, set func(affinity uint32) error, get func() (uint32, error)) (protected bool, why string, err error) {
	apply := func(want uint32) error {
		if err := set(want); err != nil {
			return err
		}
		got, err := get()
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("display affinity is %#x after setting %#x", got, want)
		}
		return nil
	}
	var errs []error
	if build >= winBuildExclude {
		err := apply(wdaExcludeFromCapture)
		if err == nil {
			return true, captureExcluded, nil
		}
		errs = append(errs, fmt.Errorf("exclude from capture: %w", err))
	}
	if err := apply(wdaMonitor); err != nil {
		errs = append(errs, fmt.Errorf("monitor only: %w", err))
		return false, captureFailed, fmt.Errorf("ui: capture guard: %w", errors.Join(errs...))
	}
	if len(errs) > 0 {
		return true, captureBlacked, fmt.Errorf("ui: capture guard: fell back to monitor only: %w", errors.Join(errs...))
	}
	return true, captureBlacked, nil
}

// Results of kiteNoSharing in capture_darwin.go.
const (
	macSharingNone    = 0 // the window's sharing type is none
	macNotMainThread  = 1
	macNoWindow       = 2
	macSharingRefused = 3 // set, but the window kept another type
)

// guardMacResult says what setting NSWindowSharingNone gave on macOS
// major version major. From macOS 15, ScreenCaptureKit captures windows
// whatever their sharing type, so there the viewer says so rather than
// claim a protection it does not have.
func guardMacResult(rc, major int) (protected bool, why string, err error) {
	switch {
	case rc == macSharingNone && major >= 15:
		return false, captureMacLate, nil
	case rc == macSharingNone:
		return true, captureExcluded, nil
	case rc == macNotMainThread:
		return false, captureFailed, errors.New("ui: capture guard: called off the main thread")
	case rc == macNoWindow:
		return false, captureFailed, errors.New("ui: capture guard: the handle is no NSWindow")
	}
	return false, captureFailed, fmt.Errorf("ui: capture guard: macOS kept another sharing type (result %d)", rc)
}
