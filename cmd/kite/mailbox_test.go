package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"kite/app"
	"kite/app/localapi"
)

// TestMailboxProcesses: olga names an always-on `kite serve --mailbox`
// as her mailbox; ada writes while olga is down; olga gets it from the
// mailbox on restart, and ada learns it was delivered.
func TestMailboxProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	da, do, db := initDir(t, "ada"), initDir(t, "olga"), initDir(t, "box")
	a, o := startServe(t, da), startServe(t, do)
	startProc(t, db, exec.Command(kiteBin(t), "serve", "--mailbox", "--data-dir", db, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"))
	mustKite(t, "contacts", "add", codeOf(t, do), "--data-dir", da)
	mustKite(t, "contacts", "add", codeOf(t, da), "--data-dir", do)
	mustKite(t, "contacts", "add", codeOf(t, db), "--data-dir", do)
	mustKite(t, "contacts", "add", codeOf(t, do), "--data-dir", db)

	if out := mustKite(t, "mailbox", "set", "box", "--data-dir", do); !strings.Contains(out, "your mailbox: @box") {
		t.Fatalf("kite mailbox set: %q", out)
	}
	waitFor(t, 10*time.Second, "ada knows olga's mailbox", func() bool {
		var ps []app.Person
		a.do(http.MethodGet, "/v1/contacts", nil, &ps)
		return len(ps) == 1 && ps[0].Mailbox != nil
	})

	o.kill()
	sent := a.send("olga", "while you were away")
	holdings := func() []app.Holding {
		var info localapi.MailboxInfo
		if err := json.Unmarshal([]byte(mustKite(t, "mailbox", "--json", "--data-dir", db)), &info); err != nil {
			t.Fatal(err)
		}
		return info.Holdings
	}
	waitFor(t, 10*time.Second, "the mailbox holds ada's message", func() bool {
		hs := holdings()
		return len(hs) == 1 && hs[0].Handle == "olga" && hs[0].Events == 1
	})
	if out := mustKite(t, "mailbox", "--data-dir", db); !strings.Contains(out, "@olga") || !strings.Contains(out, "holds messages for") {
		t.Errorf("kite mailbox on the mailbox: %q", out)
	}

	// Ada goes away too: olga can only get it from her mailbox.
	a.kill()
	o = startServe(t, do)
	waitFor(t, 15*time.Second, "olga has ada's message", func() bool { return hasText(o.messages("ada", 10), "while you were away") })
	if ms := o.messages("ada", 10); ms[len(ms)-1].Path != app.PathMailbox {
		t.Errorf("olga's copy travelled by %q, want mailbox", ms[len(ms)-1].Path)
	}
	if out := mustKite(t, "messages", "ada", "--json", "--data-dir", do); !strings.Contains(out, `"path": "mailbox"`) {
		t.Errorf("kite messages --json does not show the mailbox path:\n%s", out)
	}
	waitFor(t, 10*time.Second, "the mailbox is empty", func() bool { return len(holdings()) == 0 })

	// Ada comes back (on a new port: tests do not keep ports, so she is
	// pointed at olga) and learns her message was delivered.
	a = startServe(t, da)
	var me localapi.Me
	o.do(http.MethodGet, "/v1/me", nil, &me)
	a.do(http.MethodPost, "/v1/connect", localapi.ConnectReq{Addrs: me.Addrs}, nil)
	waitFor(t, 15*time.Second, "ada sees delivered", func() bool {
		var m app.Message
		a.do(http.MethodGet, "/v1/messages/"+sent.ID.String(), nil, &m)
		return m.Status == app.StatusDelivered || m.Status == app.StatusSeen
	})
}
