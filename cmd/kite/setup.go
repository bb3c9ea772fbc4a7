package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"regexp"
	"strings"

	"github.com/skip2/go-qrcode"

	"kite/app"
	"kite/app/localapi"
	"kite/crypto/keys"
)

func (c *cli) init(args []string) error {
	var g globals
	var handle, name string
	fs := flagSet("init", &g)
	fs.StringVar(&handle, "handle", "", "your handle (a-z, 0-9, dot, underscore)")
	fs.StringVar(&name, "name", "", "your display name")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("usage: kite init [--handle H] [--name N] [--passphrase-file F]")
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	if handle == "" {
		handle = defaultHandle()
	}
	handle = strings.TrimPrefix(handle, "@")
	if err := app.CheckHandle(handle); err != nil {
		return err
	}
	pass, err := readPassphrase(g.passphraseFile)
	if err != nil {
		return err
	}
	id, err := createIdentity(c.ctx, dir, handle, name, pass)
	if err != nil {
		return err
	}
	if g.json {
		return jsonOut(c.out, map[string]string{"peer_id": id.PeerID(), "handle": handle, "data_dir": dir})
	}
	fmt.Fprintf(c.out, "Created @%s (%s) in %s\n", handle, id.PeerID(), dir)
	return nil
}

// createIdentity makes a new identity and profile in dir; it refuses to
// replace one that exists.
func createIdentity(ctx context.Context, dir, handle, name string, pass []byte) (*keys.Identity, error) {
	if keys.Exists(dir) {
		return nil, usagef("%s already has an identity; Kite never replaces one (use another --data-dir)", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the data dir: %w", err)
	}
	id, err := keys.Generate()
	if err != nil {
		return nil, err
	}
	if err := keys.Save(dir, id, pass, keys.DefaultKDF); err != nil {
		return nil, err
	}
	inst, err := openDir(dir, pass, slog.Default())
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	if _, err := inst.svc.SetProfile(ctx, handle, name, ""); err != nil {
		return nil, err
	}
	return id, nil
}

var notHandle = regexp.MustCompile(`[^a-z0-9._]`)

func defaultHandle() string {
	if u, err := user.Current(); err == nil {
		h := notHandle.ReplaceAllString(strings.ToLower(u.Username), "")
		if len(h) > 30 {
			h = h[:30]
		}
		if h != "" && h != "root" {
			return h
		}
	}
	return "kite"
}

func (c *cli) id(args []string) error {
	var g globals
	var qr string
	fs := flagSet("id", &g)
	fs.StringVar(&qr, "qr", "", "also write the contact code as a QR code PNG to this file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("usage: kite id [--qr FILE.png] [--json]")
	}
	cl, done, err := c.api(&g)
	if err != nil {
		return err
	}
	defer done()
	var me localapi.Me
	if err := cl.Do(c.ctx, http.MethodGet, "/v1/me", nil, &me); err != nil {
		return err
	}
	if qr != "" {
		if err := qrcode.WriteFile(me.Code, qrcode.Medium, 512, qr); err != nil {
			return fmt.Errorf("write the QR code: %w", err)
		}
	}
	if g.json {
		return jsonOut(c.out, me)
	}
	fmt.Fprintf(c.out, "@%s %s\npeer ID: %s\ncontact code: %s\n", me.Handle, me.Name, me.PeerID, me.Code)
	if !me.Running {
		fmt.Fprintln(c.out, "(no addresses: Kite is not running; start 'kite serve' or the app for a code others can dial)")
	}
	return nil
}

func (c *cli) events(args []string) error {
	var g globals
	fs := flagSet("events", &g)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	cl, ok := localapi.Dial(dir)
	if !ok {
		return usagef("Kite is not running on %s: start 'kite serve' or the app", dir)
	}
	body, err := cl.Stream(c.ctx, "/v1/events")
	if err != nil {
		return err
	}
	defer body.Close()
	go func() { <-c.ctx.Done(); body.Close() }()
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		fmt.Fprintln(c.out, sc.Text())
	}
	return nil
}

func (c *cli) passphrase(args []string) error {
	var g globals
	var newFile string
	fs := flagSet("passphrase", &g)
	fs.StringVar(&newFile, "new-passphrase-file", "", "file holding the new passphrase")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: kite passphrase set|change|remove [--passphrase-file OLD] [--new-passphrase-file NEW]")
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	if _, ok := localapi.Dial(dir); ok {
		return usagef("stop the running Kite first: the passphrase changes the key file it has open")
	}
	sealed, err := keys.IsSealed(dir)
	if err != nil {
		return err
	}
	old, err := readPassphrase(g.passphraseFile)
	if err != nil {
		return err
	}
	var next []byte
	switch pos[0] {
	case "set", "change":
		if pos[0] == "set" && sealed {
			return usagef("a passphrase is already set: use 'kite passphrase change'")
		}
		if pos[0] == "change" && !sealed {
			return usagef("no passphrase is set: use 'kite passphrase set'")
		}
		if pos[0] == "set" {
			old = nil
		}
		if newFile == "" {
			return usagef("pass the new passphrase with --new-passphrase-file FILE")
		}
		b, err := os.ReadFile(newFile)
		if err != nil {
			return usagef("cannot read the new passphrase file: %v", err)
		}
		if next = []byte(strings.TrimRight(string(b), "\r\n")); len(next) < 8 {
			return usagef("a passphrase needs at least 8 characters")
		}
	case "remove":
		if !sealed {
			return usagef("no passphrase is set")
		}
	default:
		return usagef("passphrase: set, change or remove, not %q", pos[0])
	}
	if err := keys.ChangePassphrase(dir, old, next, keys.DefaultKDF); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "ok")
	return nil
}

// jsonOut prints v as indented JSON without HTML escaping (contact codes
// hold '&').
func jsonOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
