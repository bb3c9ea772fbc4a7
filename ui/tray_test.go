package ui

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"

	"kite/app"
)

// trayItems is a menu as "label" strings, with [x] for checked and (off)
// for disabled items.
func trayItems(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		s := it.Label
		if it.Checked {
			s += " [x]"
		}
		if it.Disabled {
			s += " (off)"
		}
		out = append(out, s)
	}
	return out
}

func TestTrayMenuAndTitle(t *testing.T) {
	w := newWorld(t)
	u := w.u
	var tray *fyne.Menu
	u.setTray = func(m *fyne.Menu) { tray = m }
	u.chime = func() {}
	runUI(t, u)

	// Each case is what the tray and the title show for n unread.
	check := func(n int, paused bool) {
		t.Helper()
		title, count := "Kite", "No unread messages"
		switch {
		case n == 1:
			title, count = "Kite (1)", "1 unread message"
		case n > 1:
			title, count = fmt.Sprintf("Kite (%d)", n), fmt.Sprintf("%d unread messages", n)
		}
		pause := "Pause notifications"
		if paused {
			pause += " [x]"
		}
		want := fmt.Sprint([]string{"Open Kite", count + " (off)", pause})
		eventually(t, u, fmt.Sprintf("title %q and tray %s", title, want), func() bool {
			return u.win.Title() == title && tray != nil && fmt.Sprint(trayItems(tray)) == want
		})
	}

	// newWorld delivered bob's two messages.
	total, err := w.me.svc.UnreadTotal(context.Background())
	if err != nil || total != 2 {
		t.Fatalf("unread at start: got %d (%v), want 2", total, err)
	}
	u.reloadCounts()
	check(2, false)

	if _, err := w.bob.svc.SendText(context.Background(), w.direct, "still there?", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, w.bob, w.me, w.direct)
	check(3, false)

	// Pause from the tray: the setting is stored and the item checked.
	for _, it := range tray.Items {
		if it.Label == "Pause notifications" {
			it.Action()
		}
	}
	check(3, true)
	if st, err := w.me.svc.Settings(context.Background()); err != nil || !st.PauseAll {
		t.Fatalf("after pausing from the tray: PauseAll %v (%v), want true", st.PauseAll, err)
	}

	// Reading the chat clears the count.
	u.openConv(w.direct)
	check(0, true)

	u.showEmpty()
	if _, err := w.bob.svc.SendText(context.Background(), w.direct, "ok, later", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, w.bob, w.me, w.direct)
	check(1, true)
}
