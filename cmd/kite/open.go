package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kite/app"
	"kite/app/localapi"
	"kite/app/media"
	"kite/app/store"
	"kite/crypto/keys"
)

// cli runs one command.
type cli struct {
	ctx    context.Context
	out    io.Writer
	errOut io.Writer
	names  names // who is who, for human output
}

// instance is an opened data dir: identity, store and service.
type instance struct {
	dir   string
	id    *keys.Identity
	store *store.Store
	svc   *app.Service
	log   *slog.Logger
}

func (in *instance) Close() error { return in.store.Close() }

// DBName is the SQLite database in the data dir.
const DBName = "kite.db"

func logger(w io.Writer, def slog.Level) *slog.Logger {
	level := def
	switch strings.ToLower(os.Getenv("KITE_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// open loads the identity (asking for nothing: the passphrase comes from a
// file or the environment) and opens the store.
func (c *cli) open(g *globals, level slog.Level) (*instance, error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, err
	}
	pass, err := readPassphrase(g.passphraseFile)
	if err != nil {
		return nil, err
	}
	return openDir(dir, pass, logger(c.errOut, level))
}

func openDir(dir string, pass []byte, log *slog.Logger) (*instance, error) {
	if !keys.Exists(dir) {
		return nil, app.ErrNoIdentity
	}
	id, err := keys.Load(dir, pass)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dir, DBName))
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	svc := app.New(app.Params{Store: st, Identity: id, Log: log})
	bs, err := openBlobs(dir)
	if err != nil {
		st.Close()
		return nil, err
	}
	svc.SetBlobs(bs)
	svc.SetLinkPreviews(func(ctx context.Context, u string) (media.Preview, error) {
		return media.FetchPreview(ctx, nil, u)
	})
	return &instance{dir: dir, id: id, store: st, svc: svc, log: log}, nil
}

// api returns a client for the running instance on the data dir, or,
// when none runs, one that serves the same API in process.
func (c *cli) api(g *globals) (*localapi.Client, func(), error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, nil, err
	}
	if cl, ok := localapi.Dial(dir); ok {
		return cl, func() {}, nil
	}
	inst, err := c.open(g, slog.LevelWarn)
	if err != nil {
		return nil, nil, err
	}
	return localapi.InProcess(localapi.New(inst.svc, nil, inst.log)), func() { inst.Close() }, nil
}
