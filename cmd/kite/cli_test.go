package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kite/app"
)

// kite runs one CLI command in process and returns stdout and the error.
func kite(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func mustKite(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kite(t, args...)
	if err != nil {
		t.Fatalf("kite %s: %v", strings.Join(args, " "), plain(err))
	}
	return out
}

func initDir(t *testing.T, handle string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), handle)
	mustKite(t, "init", "--handle", handle, "--name", strings.ToUpper(handle[:1])+handle[1:], "--data-dir", dir)
	return dir
}

func codeOf(t *testing.T, dir string) string {
	t.Helper()
	var me struct {
		Code string `json:"contact_code"`
	}
	if err := json.Unmarshal([]byte(mustKite(t, "id", "--json", "--data-dir", dir)), &me); err != nil {
		t.Fatal(err)
	}
	return me.Code
}

func TestCLIOffline(t *testing.T) {
	a, b := initDir(t, "ada"), initDir(t, "bob")
	mustKite(t, "contacts", "add", codeOf(t, b), "--data-dir", a)
	// Flags after arguments, as people type them.
	out := mustKite(t, "send", "bob", "hello", "there", "--data-dir", a)
	id := strings.Fields(out)[0]
	if len(id) != 64 {
		t.Fatalf("send printed %q; want a message ID", out)
	}
	msgs := mustKite(t, "--data-dir", a, "messages", "bob", "--json")
	var ms []app.Message
	if err := json.Unmarshal([]byte(msgs), &ms); err != nil || len(ms) != 1 || ms[0].Text != "hello there" {
		t.Fatalf("messages --json: got %s (%v)", msgs, err)
	}
	mustKite(t, "react", id[:10], "🎉", "--data-dir", a)
	mustKite(t, "edit", id[:10], "hello world", "--data-dir", a)
	got := mustKite(t, "messages", "bob", "--data-dir", a)
	if !strings.Contains(got, "hello world") || !strings.Contains(got, "(edited)") || !strings.Contains(got, "🎉") {
		t.Fatalf("messages: got %q; want the edited text and the reaction", got)
	}
	var inbox []map[string]any
	if err := json.Unmarshal([]byte(mustKite(t, "inbox", "--json", "--data-dir", a)), &inbox); err != nil || len(inbox) != 1 {
		t.Fatalf("inbox --json: got %v (%v)", inbox, err)
	}
	for _, field := range []string{"id", "kind", "title", "folder", "unread", "last_at", "e2e", "pinned", "muted"} {
		if _, ok := inbox[0][field]; !ok {
			t.Errorf("inbox --json lacks the field %q", field)
		}
	}
	if res := mustKite(t, "search", "hel", "--data-dir", a); !strings.Contains(res, "hello world") {
		t.Fatalf("search: got %q", res)
	}
	mustKite(t, "unsend", id[:12], "--data-dir", a)
	if res := mustKite(t, "search", "hello", "--json", "--data-dir", a); strings.TrimSpace(res) != "[]" {
		t.Fatalf("search after unsend: got %q, want []", res)
	}
	mustKite(t, "settings", "set", "who-can-message", "contacts", "--data-dir", a)
	if s := mustKite(t, "settings", "--json", "--data-dir", a); !strings.Contains(s, `"who_can_message": "contacts"`) {
		t.Fatalf("settings: got %s", s)
	}
	mustKite(t, "conv", "mute", "bob", "8h", "--data-dir", a)
	if s := mustKite(t, "conv", "info", "bob", "--data-dir", a); !strings.Contains(s, "muted       true") {
		t.Fatalf("conv info after mute: got %s", s)
	}
}

func TestCLIErrors(t *testing.T) {
	a, b := initDir(t, "ada"), initDir(t, "bob")
	code := codeOf(t, b)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no identity", []string{"inbox", "--data-dir", filepath.Join(t.TempDir(), "none")}, "kite init"},
		{"unknown command", []string{"fly"}, "unknown command"},
		{"empty text", []string{"send", "ada", "", "--data-dir", a}, ""},
		{"truncated code", []string{"contacts", "add", code[:len(code)-4], "--data-dir", a}, "contact code"},
		{"unknown recipient", []string{"send", "zed", "hi", "--data-dir", a}, "no one called"},
		{"16 recipients", []string{"send", strings.Repeat("bob,", 15) + "zed", "hi", "--data-dir", a}, "at most 15"},
		{"too long", []string{"send", "bob", strings.Repeat("x", 4097), "--data-dir", a}, "4096"},
		{"unknown message", []string{"react", "deadbeefdeadbeef", "x", "--data-dir", a}, "no message"},
		{"short prefix", []string{"unsend", "dead", "--data-dir", a}, "8 of its hex digits"},
		{"bad flag", []string{"inbox", "--frobnicate", "--data-dir", a}, "frobnicate"},
		{"init twice", []string{"init", "--data-dir", a}, "already has an identity"},
		{"bad handle", []string{"init", "--handle", "Not Valid", "--data-dir", filepath.Join(t.TempDir(), "x")}, "handle"},
	}
	mustKite(t, "contacts", "add", code, "--data-dir", a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kite(t, tt.args...)
			if err == nil {
				t.Fatalf("got success, want an error mentioning %q", tt.want)
			}
			msg := plain(err)
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Fatalf("got %q; want one line mentioning %q", msg, tt.want)
			}
		})
	}
	if out := mustKite(t, "messages", "bob", "--data-dir", a); !strings.Contains(out, "no messages") {
		t.Fatalf("after refused sends: got %q, want no messages", out)
	}
}

// Block, unblock and restrict say in words what they did, and the
// contact list shows it.
func TestCLIBlockSaysWhatItDid(t *testing.T) {
	a, b := initDir(t, "ada"), initDir(t, "bob")
	mustKite(t, "contacts", "add", codeOf(t, b), "--data-dir", a)
	status := func() string {
		var ps []app.Person
		if err := json.Unmarshal([]byte(mustKite(t, "contacts", "--json", "--data-dir", a)), &ps); err != nil || len(ps) != 1 {
			t.Fatalf("contacts --json: %v (%v)", ps, err)
		}
		return fmt.Sprintf("blocked=%v restricted=%v", ps[0].Blocked, ps[0].Restricted)
	}
	for _, step := range []struct {
		args         []string
		said, status string
	}{
		{[]string{"contacts", "block", "bob"}, "blocked bob\n", "blocked=true restricted=false"},
		{[]string{"contacts", "unblock", "@bob"}, "unblocked @bob\n", "blocked=false restricted=false"},
		{[]string{"contacts", "restrict", "bob"}, "restricted bob\n", "blocked=false restricted=true"},
		{[]string{"contacts", "--off", "restrict", "bob"}, "lifted the restriction on bob\n", "blocked=false restricted=false"},
	} {
		if got := mustKite(t, append(step.args, "--data-dir", a)...); got != step.said {
			t.Errorf("kite %s: printed %q, want %q", strings.Join(step.args, " "), got, step.said)
		}
		if got := status(); got != step.status {
			t.Errorf("after kite %s: %s, want %s", strings.Join(step.args, " "), got, step.status)
		}
	}
	if _, err := kite(t, "contacts", "block", "zed", "--data-dir", a); err == nil || !strings.Contains(plain(err), "zed") {
		t.Errorf("blocking no one: got %v, want an error naming zed", err)
	}
}

// Conversation actions say what they did; those that add an event to the
// chat print it; info prints the conversation.
func TestCLIConvSaysWhatItDid(t *testing.T) {
	a, b := initDir(t, "ada"), initDir(t, "bob")
	mustKite(t, "contacts", "add", codeOf(t, b), "--data-dir", a)
	mustKite(t, "send", "bob", "hi", "--data-dir", a)
	for _, step := range []struct{ args, want string }{
		{"conv mute bob 8h", "muted bob for 8h\n"},
		{"conv mute bob forever", "muted bob until you unmute it\n"},
		{"conv unmute bob", "unmuted bob\n"},
		{"conv pin bob", "pinned bob\n"},
		{"conv unpin bob", "unpinned bob\n"},
		{"conv archive bob", "archived bob\n"},
		{"conv unarchive bob", "unarchived bob\n"},
		{"conv move bob general", "moved bob to general\n"},
		{"conv report bob spammy", "reported bob\n"},
	} {
		if got := mustKite(t, append(strings.Fields(step.args), "--data-dir", a)...); got != step.want {
			t.Errorf("kite %s: printed %q, want %q", step.args, got, step.want)
		}
	}
	for _, args := range []string{"conv theme bob ocean", "conv disappearing bob 24h"} {
		got := mustKite(t, append(strings.Fields(args), "--data-dir", a)...)
		if f := strings.Fields(got); len(f) != 3 || len(f[0]) != 64 || f[1] != "in" {
			t.Errorf("kite %s: printed %q, want the event's ID in the conversation", args, got)
		}
	}
	info := mustKite(t, "conv", "info", "bob", "--data-dir", a)
	for _, want := range []string{"title       @bob", "theme       ocean", "folder      general"} {
		if !strings.Contains(info, want) {
			t.Errorf("conv info: %q lacks %q", info, want)
		}
	}
	if got := mustKite(t, "conv", "delete", "bob", "--data-dir", a); got != "deleted bob\n" {
		t.Errorf("kite conv delete bob: printed %q, want %q", got, "deleted bob\n")
	}
}

func TestCLIProfilePrints(t *testing.T) {
	a := initDir(t, "ada")
	if got, want := mustKite(t, "profile", "--bio", "hello there", "--data-dir", a), "handle  @ada\nname    Ada\nbio     hello there\n"; got != want {
		t.Errorf("kite profile --bio: printed %q, want %q", got, want)
	}
	if got, want := mustKite(t, "profile", "--data-dir", a), "handle  @ada\nname    Ada\nbio     hello there\n"; got != want {
		t.Errorf("kite profile: printed %q, want %q", got, want)
	}
}

func TestCLIPassphraseAndCorruptKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	pass := filepath.Join(t.TempDir(), "pass")
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(pass, []byte("correct horse battery\n"), 0o600)
	os.WriteFile(wrong, []byte("wrong horse\n"), 0o600)
	mustKite(t, "init", "--handle", "pia", "--passphrase-file", pass, "--data-dir", dir)
	before, _ := os.ReadFile(filepath.Join(dir, "identity.key"))
	_, err := kite(t, "inbox", "--data-dir", dir)
	if err == nil || !strings.Contains(plain(err), "passphrase") {
		t.Fatalf("locked without passphrase: got %v", err)
	}
	_, err = kite(t, "inbox", "--data-dir", dir, "--passphrase-file", wrong)
	if err == nil || plain(err) != "wrong passphrase" {
		t.Fatalf("wrong passphrase: got %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "identity.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("a wrong passphrase changed the key file")
	}
	mustKite(t, "inbox", "--data-dir", dir, "--passphrase-file", pass)
	mustKite(t, "passphrase", "remove", "--data-dir", dir, "--passphrase-file", pass)
	mustKite(t, "inbox", "--data-dir", dir)

	// A damaged key file is an error, never a new identity.
	os.WriteFile(filepath.Join(dir, "identity.key"), []byte(`{"version":1,"kdf":"none","keys":"AAAA"}`), 0o600)
	_, err = kite(t, "id", "--data-dir", dir)
	if err == nil || !strings.Contains(plain(err), "damaged") {
		t.Fatalf("corrupt key file: got %v", err)
	}
	if _, err := kite(t, "init", "--data-dir", dir); err == nil {
		t.Fatal("init over a damaged key file: got success")
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	var g globals
	var e2e bool
	fs := flagSet("send", &g)
	fs.BoolVar(&e2e, "e2e", false, "")
	pos, err := parse(fs, []string{"bob", "--e2e", "hi", "--data-dir", "/tmp/x", "--", "--not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if !e2e || g.dataDir != "/tmp/x" || strings.Join(pos, "|") != "bob|hi|--not-a-flag" {
		t.Fatalf("got e2e=%v dir=%q pos=%q", e2e, g.dataDir, pos)
	}
	known := func(s string) bool { return s == "send" }
	if cmd, _ := splitCommand([]string{"--listen", "/ip4/1.2.3.4", "--screen", "send"}, known); cmd != "" {
		t.Fatalf("GUI flags: got command %q, want none", cmd)
	}
	cmd, rest := splitCommand([]string{"--data-dir", "/d", "send", "bob", "hi"}, known)
	if cmd != "send" || strings.Join(rest, " ") != "--data-dir /d bob hi" {
		t.Fatalf("splitCommand: got %q %q", cmd, rest)
	}
}
