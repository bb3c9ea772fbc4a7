// Command kite is Kite's single binary: the desktop app, the headless node
// (`kite serve`) and the command line. It is the composition root: the only
// place that knows every part, wiring identity, store, service, network,
// local API and GUI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"kite/app"
	"kite/app/localapi"
	"kite/crypto/keys"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// KITE_CPUPROFILE=FILE writes a CPU profile of the command, for
	// finding where time goes (go tool pprof).
	if f, err := os.Create(os.Getenv("KITE_CPUPROFILE")); err == nil {
		if pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	// KITE_TRACE=FILE writes an execution trace (go tool trace): where
	// a goroutine waited to be scheduled, which a CPU profile cannot show.
	if f, err := os.Create(os.Getenv("KITE_TRACE")); err == nil {
		if trace.Start(f) == nil {
			defer trace.Stop()
		}
	}
	// KITE_MEMPROFILE=FILE writes a heap profile when the command is
	// told to stop (SIGTERM or ^C), before it tears anything down: what
	// an idle app holds (go tool pprof -sample_index=inuse_space).
	// Without it heap profiling is off.
	heapDone := memProfileOnStop(ctx, os.Getenv("KITE_MEMPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	<-heapDone
	if err != nil {
		fmt.Fprintln(os.Stderr, "kite: "+plain(err))
		os.Exit(1)
	}
}

// memProfileOnStop writes a heap profile to file once ctx ends; the
// returned channel closes when it is written (at once with no file).
func memProfileOnStop(ctx context.Context, file string) <-chan struct{} {
	done := make(chan struct{})
	if file == "" {
		// Nothing reads heap profiles otherwise; sampling for them (one
		// allocation in 512 KiB, each with its stack kept for good) holds
		// ~1.5 MB in the GUI.
		runtime.MemProfileRate = 0
		close(done)
		return done
	}
	runtime.MemProfileRate = 4096 // finer than the default 512 KiB, to see small holders
	go func() {
		defer close(done)
		<-ctx.Done()
		f, err := os.Create(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kite: heap profile:", err)
			return
		}
		defer f.Close()
		runtime.GC() // the profile shows the heap as of the last collection
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			fmt.Fprintln(os.Stderr, "kite: heap profile:", err)
		}
	}()
	return done
}

// plain is the one line a person sees for err.
func plain(err error) string {
	var ae *localapi.APIError
	var ue *usageError
	switch {
	case errors.As(err, &ae):
		return ae.Body.Error
	case errors.As(err, &ue):
		return ue.msg
	case errors.Is(err, keys.ErrWrongPassphrase):
		return "wrong passphrase"
	case errors.Is(err, keys.ErrPassphraseNeeded):
		return "this identity is locked with a passphrase: pass --passphrase-file FILE (or set KITE_PASSPHRASE)"
	case errors.Is(err, keys.ErrCorruptKeyFile):
		return "the key file is damaged (" + err.Error() + "); restore it from a backup — Kite will not make a new identity over it"
	case errors.Is(err, keys.ErrNoIdentity), errors.Is(err, app.ErrNoIdentity):
		return "no identity in this data dir yet: run 'kite init' first"
	}
	return strings.TrimPrefix(app.Plain(err), "Something went wrong: ")
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

const usage = `Kite — a messenger with no server.

Usage: kite [command] [arguments] [flags]

With no command, kite opens the app.

  init [--handle H] [--name N] [--passphrase-file F]   make this device's identity
  id [--qr FILE.png]                                     show peer ID and contact code
  serve [--listen ADDR]... [--no-mdns]                   run the headless node and local API
        [--dht] [--bootstrap ADDR]... [--relay ADDR]... [--relay-service]   the wide network
  contacts [add CODE | block P | unblock P | restrict P [--off]]
  inbox [--folder primary|general|requests] [--archived] [--unread]
  send TO[,TO…] TEXT [--reply-to ID] [--e2e]            TO: handle, peer ID or conversation ID
  messages CONV [--limit N] [--before ID]
  react ID EMOJI | unreact ID | edit ID TEXT | unsend ID | delete ID | forward ID TO[,TO…]
  group create NAME MEMBER… [--e2e] | rename CONV NAME | add CONV MEMBER…
        remove CONV MEMBER… | leave CONV | promote CONV MEMBER
  conv mute CONV 1h|8h|24h|forever | unmute | pin | unpin | archive | unarchive
       move CONV primary|general | theme CONV NAME | disappearing CONV off|seen|1h|24h|7d
       delete | accept | decline | block | report CONV [REASON] | info CONV | members CONV
  share CONV location LAT LON [LABEL] | contact WHO | hashtag TAG | link URL
  poll CONV QUESTION OPTION OPTION…      vote POLL-ID N
  send-file TO PATH [--view-once | --replay] [--caption C]    save MEDIA-ID PATH [--wait]
  seen CONV [--up-to ID]                 unread
  view ID [--info]                       count one view of view-once media (the app shows it)
  search QUERY [--conv CONV] [--limit N]
  settings [set KEY VALUE]               profile [--handle H] [--name N] [--bio B]
  nearby | peers | connect ADDR…        events (stream of changes, needs a running instance)
  mailbox [set WHO | clear]              the always-on device (kite serve --mailbox) that holds
                                         messages for you while you are away
  passphrase set|change|remove [--passphrase-file F] [--new-passphrase-file F]
  safety WHO [--qr FILE.png] [--verify]  compare the safety number of an end-to-end chat
  demo seed [--messages N] [--conversations M] [--seed S]

Every command takes --data-dir DIR (default: the OS config dir/kite) and
listings take --json. Flags may come before or after arguments.`

// builtins are the commands run outside the local API.
var builtins = map[string]bool{"help": true, "init": true, "id": true, "serve": true, "demo": true, "passphrase": true, "safety": true}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := &cli{ctx: ctx, out: stdout, errOut: stderr}
	cmds := c.commands()
	cmd, args := splitCommand(args, func(s string) bool {
		_, ok := cmds[s]
		return ok || builtins[s]
	})
	switch cmd {
	case "":
		return c.gui(args)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "init":
		return c.init(args)
	case "id":
		return c.id(args)
	case "serve":
		return c.serve(args)
	case "demo":
		return c.demo(args)
	case "passphrase":
		return c.passphrase(args)
	case "safety":
		return c.safety(args)
	}
	if f, ok := cmds[cmd]; ok {
		return f(args)
	}
	return usagef("unknown command %q: run 'kite help'", cmd)
}
