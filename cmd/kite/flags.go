package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// globals are the flags every command takes.
type globals struct {
	dataDir        string
	json           bool
	passphraseFile string
}

// valueFlags are the flags that may come before the command word and take
// a value, which is never the command (`kite --screen group`).
var valueFlags = map[string]bool{"data-dir": true, "passphrase-file": true, "listen": true, "bootstrap": true, "relay": true, "screen": true, "open": true}

// splitCommand finds the command word among the arguments: the first
// one that names a command (`kite --data-dir D send …`). With none, the
// arguments belong to the GUI.
func splitCommand(args []string, isCommand func(string) bool) (cmd string, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			if name := strings.TrimLeft(a, "-"); valueFlags[name] {
				i++ // its value
			}
			continue
		}
		if i == 0 || isCommand(a) {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
	}
	return "", args
}

// flagSet makes a FlagSet for a command with the global flags on it.
func flagSet(name string, g *globals) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.dataDir, "data-dir", "", "data directory (default: the OS config dir/kite)")
	fs.BoolVar(&g.json, "json", false, "print JSON")
	fs.StringVar(&g.passphraseFile, "passphrase-file", "", "file holding the identity's passphrase")
	return fs
}

// parse parses flags that may come before, between or after the
// arguments, as people type them; everything after "--" is an argument.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, tail...), nil
}

// resolveDataDir applies the default data dir.
func (g *globals) resolveDataDir() (string, error) {
	if g.dataDir != "" {
		return filepath.Abs(g.dataDir)
	}
	if d := os.Getenv("KITE_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config dir: %w (pass --data-dir)", err)
	}
	return filepath.Join(cfg, "kite"), nil
}

// passphrase reads the passphrase from --passphrase-file or
// KITE_PASSPHRASE; nil when neither is given.
func readPassphrase(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("cannot read the passphrase file: %v", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	if p := os.Getenv("KITE_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, nil
}
