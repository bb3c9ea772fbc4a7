//go:build darwin && cgo

package ui

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework Cocoa
#import <Cocoa/Cocoa.h>

// kiteNoSharing sets the sharing type of the NSWindow w to none, so the
// window server leaves it out of screenshots and screen sharing. It
// returns 0 when the window holds that type, 1 off the main thread (AppKit
// may only be used there), 2 when w is no window, 3 when the window kept
// another type; *major is the macOS major version.
static int kiteNoSharing(uintptr_t w, long *major) {
	*major = (long)[[NSProcessInfo processInfo] operatingSystemVersion].majorVersion;
	if (![NSThread isMainThread]) {
		return 1;
	}
	id obj = (id)(void *)w;
	if (obj == nil || ![obj isKindOfClass:[NSWindow class]]) {
		return 2;
	}
	NSWindow *win = (NSWindow *)obj;
	[win setSharingType:NSWindowSharingNone];
	return [win sharingType] == NSWindowSharingNone ? 0 : 3;
}
*/
import "C"

import (
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// captureGuard keeps w out of screenshots and screen sharing by setting
// its NSWindow's sharing type to none. w must have been shown (before, it
// has no NSWindow), and this runs on the UI thread, which Fyne keeps on
// the main thread AppKit requires.
func captureGuard(w fyne.Window) (protected bool, why string) {
	ns := nativeHandle(w, func(context any) (uintptr, bool) {
		c, ok := context.(driver.MacWindowContext)
		return c.NSWindow, ok
	})
	if ns == 0 {
		slog.Warn("ui: capture guard: the window has no native handle")
		return false, captureFailed
	}
	var major C.long
	rc := C.kiteNoSharing(C.uintptr_t(ns), &major)
	protected, why, err := guardMacResult(int(rc), int(major))
	if err != nil {
		slog.Warn("ui: capture guard", "macos", int(major), "err", err)
	}
	return protected, why
}
