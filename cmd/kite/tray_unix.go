//go:build (linux || freebsd || openbsd || netbsd) && !android

package main

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is the D-Bus name of the StatusNotifierWatcher: the part of
// a desktop panel that shows tray icons. Fyne's tray on these systems is a
// StatusNotifierItem and shows nowhere else.
const trayWatcher = "org.kde.StatusNotifierWatcher"

// trayHost reports when the desktop can show a tray icon: at once if a
// StatusNotifierWatcher is on the session bus, or when one appears (a
// panel started after Kite); false if ctx ends first or there is no
// session bus. Where D-Bus cannot answer the question it says yes, so the
// tray is set up as it always was.
//
// Without a watcher (GNOME without the AppIndicator extension, a bare X
// server) Fyne's tray would still cost a hidden second window with its own
// GL context, about 8 MB resident, for an icon nothing shows.
//
// It never starts a bus: with no session bus to find (no
// DBUS_SESSION_BUS_ADDRESS, no /run/user/UID/bus) no panel is on one; a
// bus autolaunched now (dbus-launch) would be new and empty.
func trayHost(ctx context.Context) bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return true
	}
	if err := conn.Hello(); err != nil {
		return true
	}
	match := []dbus.MatchOption{
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, trayWatcher),
	}
	if err := conn.AddMatchSignalContext(ctx, match...); err != nil {
		return ctx.Err() == nil
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals) // the match and the channel end with the connection

	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, trayWatcher).Store(&has); err != nil {
		return ctx.Err() == nil
	}
	for !has {
		select {
		case <-ctx.Done():
			return false
		case s, ok := <-signals:
			if !ok || s == nil {
				return false // the connection closed
			}
			has = watcherAppeared(s)
		}
	}
	return true
}

// watcherAppeared reports whether s says the tray watcher got an owner.
func watcherAppeared(s *dbus.Signal) bool {
	if s.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(s.Body) != 3 {
		return false
	}
	name, _ := s.Body[0].(string)
	owner, _ := s.Body[2].(string)
	return name == trayWatcher && owner != ""
}
