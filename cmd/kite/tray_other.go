//go:build !(linux || freebsd || openbsd || netbsd) || android

package main

import "context"

// trayHost is nil where the system always has a tray (macOS, Windows): the
// GUI sets its tray up at once.
var trayHost func(ctx context.Context) bool
