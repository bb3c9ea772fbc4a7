//go:build (linux || freebsd || openbsd || netbsd) && !android

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestWatcherAppeared(t *testing.T) {
	const owner = "NameOwnerChanged"
	tests := []struct {
		name string
		sig  *dbus.Signal
		want bool
	}{
		{"watcher got an owner", &dbus.Signal{Name: "org.freedesktop.DBus." + owner, Body: []any{trayWatcher, "", ":1.42"}}, true},
		{"watcher lost its owner", &dbus.Signal{Name: "org.freedesktop.DBus." + owner, Body: []any{trayWatcher, ":1.42", ""}}, false},
		{"another name", &dbus.Signal{Name: "org.freedesktop.DBus." + owner, Body: []any{"org.example.Other", "", ":1.7"}}, false},
		{"another signal", &dbus.Signal{Name: "org.freedesktop.DBus.NameAcquired", Body: []any{trayWatcher}}, false},
		{"short body", &dbus.Signal{Name: "org.freedesktop.DBus." + owner, Body: []any{trayWatcher}}, false},
	}
	for _, tt := range tests {
		if got := watcherAppeared(tt.sig); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTrayHostNoBus: with no session bus to find, trayHost says no at once
// and starts none.
func TestTrayHostNoBus(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a session bus at /run/user/UID/bus")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("PATH", t.TempDir()) // no dbus-launch to start one
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if trayHost(ctx) {
		t.Fatal("trayHost said yes with no session bus")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("trayHost took %v to say no, want at once", d)
	}
}

// TestTrayHost runs a private session bus: trayHost waits while no tray
// watcher is on it, says yes once one appears, and no when its context
// ends first.
func TestTrayHost(t *testing.T) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon")
	}
	cmd := exec.Command(daemon, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)

	// No watcher: trayHost waits until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if trayHost(ctx) {
		t.Fatal("trayHost said yes with no watcher on the bus")
	}

	// A watcher appears while trayHost waits.
	got := make(chan bool, 1)
	go func() { got <- trayHost(context.Background()) }()
	time.Sleep(200 * time.Millisecond)
	select {
	case v := <-got:
		t.Fatalf("trayHost returned %v before a watcher appeared", v)
	default:
	}
	panel, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer panel.Close()
	if reply, err := panel.RequestName(trayWatcher, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the watcher name: %v %v", reply, err)
	}
	select {
	case v := <-got:
		if !v {
			t.Fatal("trayHost said no once a watcher appeared")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("trayHost did not notice the watcher")
	}

	// It is there already: yes at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if !trayHost(ctx2) {
		t.Fatal("trayHost said no with a watcher on the bus")
	}
}
