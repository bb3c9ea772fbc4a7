package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"kite/app"
	"kite/crypto/keys"
	"kite/crypto/seal"
	"kite/sync/node"
	"kite/ui"
)

// gui opens the desktop app: first run, unlock, then the main window with
// the network and the local API running behind it.
func (c *cli) gui(args []string) error {
	var g globals
	var opts netOptions
	var screen string
	fs := flagSet("kite", &g)
	opts.register(fs)
	fs.StringVar(&screen, "screen", "", "open on a screen: inbox, direct, group, requests, info, new, settings")
	var openConv string
	fs.StringVar(&openConv, "open", "", "open this conversation (its ID)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unknown command %q: run 'kite help'", pos[0])
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	pass, err := readPassphrase(g.passphraseFile)
	if err != nil {
		return err
	}
	a := fyneapp.NewWithID("org.kite.desktop")
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	log := logger(c.errOut, slog.LevelWarn)
	stopped := make(chan error, 1)
	var inst *instance

	start := func() {
		n, err := newNode(inst, opts)
		if err != nil {
			log.Error("start the network", "err", err)
		}
		var network ui.Network
		if n != nil {
			network = uiNet{n}
		}
		u := ui.New(ui.Params{App: a, Service: inst.svc, Network: network, DataDir: dir, Log: log, SafetyNumber: seal.SafetyNumber, TrayHost: trayHost})
		u.ShowMain()
		go settleMemory(ctx, func(ctx context.Context) bool { return u.WaitIdle(ctx, 10*time.Second) })
		if screen != "" {
			u.ShowScreen(screen)
		}
		if id, err := app.ParseConvID(openConv); err == nil {
			u.Open(id)
		} else if openConv != "" {
			log.Warn("--open takes a conversation ID", "err", err)
		}
		go func() { _ = u.Run(ctx) }()
		if n != nil {
			go func() { stopped <- runNode(ctx, inst, n, nil) }()
		}
	}
	open := func(p []byte) error {
		in, err := openDir(dir, p, log)
		if err != nil {
			return err
		}
		inst = in
		return nil
	}

	sealed, _ := keys.IsSealed(dir)
	switch {
	case !keys.Exists(dir):
		ui.FirstRun(a, func(handle, name, passphrase string, picture []byte) error {
			if _, err := createIdentity(ctx, dir, handle, name, []byte(passphrase)); err != nil {
				return errors.New(plain(err))
			}
			if err := open([]byte(passphrase)); err != nil {
				return err
			}
			if picture != nil {
				if _, err := inst.svc.SetAvatar(ctx, picture); err != nil {
					log.Warn("set the profile photo", "err", err) // the profile exists; Settings can retry
				}
			}
			return nil
		}, start)
	case sealed && pass == nil:
		ui.Unlock(a, func(p string) error {
			if err := open([]byte(p)); err != nil {
				return errors.New(plain(err))
			}
			return nil
		}, start)
	default:
		if err := open(pass); err != nil {
			return err
		}
		start()
	}
	go func() {
		<-c.ctx.Done()
		fyne.Do(a.Quit)
	}()
	a.Run()
	cancel()
	if inst != nil {
		select {
		case err := <-stopped:
			if err != nil {
				fmt.Fprintln(os.Stderr, "kite: network:", plain(err))
			}
		default:
		}
		inst.Close()
	}
	return nil
}

// uiNet shows the node through the GUI's Network interface.
type uiNet struct{ n *node.Node }

func (u uiNet) Addrs() []string { return u.n.Addrs() }

func (u uiNet) Peers() []ui.Peer {
	var out []ui.Peer
	for _, p := range u.n.Peers() {
		out = append(out, ui.Peer{Key: p.Key, Addr: p.Addr, Transport: p.Transport})
	}
	return out
}

func (u uiNet) Nearby() []ui.Peer {
	var out []ui.Peer
	for _, p := range u.n.Nearby() {
		name := p.Name
		if name == "" && p.Handle != "" {
			name = "@" + p.Handle
		}
		addr := ""
		if len(p.Addrs) > 0 {
			addr = p.Addrs[0]
		}
		out = append(out, ui.Peer{Key: p.Key, Name: name, Addr: addr, Transport: "LAN"})
	}
	return out
}
