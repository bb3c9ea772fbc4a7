package main

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"kite/app"
	"kite/app/localapi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// blobBench: blobs are measured through `kite send-file` once it exists.
func (b *bench) blobBench(ctx context.Context) error {
	row := Row{Group: "blob", Metric: "100 MiB blob over loopback", Unit: "MB/s", Goal: Goal{"≥", 50}}
	if b.echo != nil {
		row.Floor, row.FloorName = f(float64(b.echo.BulkBytes)/b.echo.BulkSecs/1e6), "bare libp2p stream"
	}
	mbs, err := b.blobTransfer(ctx, 100<<20)
	if err != nil {
		row.Note = "not measured: " + err.Error()
	} else {
		row.Kite = f(mbs)
		row.Note = "two `kite serve` on 127.0.0.1: from the media event being sent (the file already imported) to the receiver having the whole blob, verified chunk by chunk"
		b.logf("  100 MiB blob at %s MB/s", num(mbs))
	}
	b.add(row)
	return ctx.Err()
}

// blobTransfer sends size random bytes with `POST …/files` from one
// `kite serve` to another and returns MB/s until the receiver has it.
func (b *bench) blobTransfer(ctx context.Context, size int) (float64, error) {
	if ok, why := b.haveKite(); !ok {
		return 0, errors.New(why)
	}
	a, c, err := b.livePair(ctx)
	if err != nil {
		return 0, err
	}
	defer a.proc.stop()
	defer c.proc.stop()
	path := filepath.Join(b.tmp, "blob.bin")
	data := make([]byte, size)
	if _, err := crand.Read(data); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return 0, err
	}
	defer os.Remove(path)
	var sent localapi.Sent
	if err := a.api.Do(ctx, "POST", "/v1/conversations/"+c.peerID+"/files", localapi.FileReq{Path: path}, &sent); err != nil {
		return 0, fmt.Errorf("send the file: %w", err)
	}
	t := time.Now()
	for time.Since(t) < 120*time.Second {
		var fp localapi.FilePath
		if c.api.Do(ctx, "GET", "/v1/messages/"+sent.ID.String()+"/file", nil, &fp) == nil && fp.Path != "" {
			return float64(size) / time.Since(t).Seconds() / 1e6, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return 0, errors.New("the receiver did not have the file after 120 s")
}

// guiBench measures the desktop app under Xvfb: the time from starting
// `kite` on the seeded data to a visible window named Kite (found with
// xdotool), and its resident memory after 5 s idle.
func (b *bench) guiBench(ctx context.Context) error {
	const g = "gui"
	n := b.sz.msgs
	rows := []Row{
		{Group: g, Metric: fmt.Sprintf("cold start to a usable window with %s messages (Xvfb)", num(float64(n))), Unit: "s", Goal: Goal{"≤", 1}},
		{Group: g, Metric: fmt.Sprintf("open a %s-message conversation in the GUI", num(float64(n/10))), Unit: "ms", Goal: Goal{"≤", 50}},
		{Group: g, Metric: fmt.Sprintf("idle resident memory with %s messages, GUI under Xvfb", num(float64(n))), Unit: "MB", Goal: Goal{"≤", 200}},
	}
	base := len(b.rep.Rows)
	b.rep.Rows = append(b.rep.Rows, rows...)
	row := func(i int) *Row { return &b.rep.Rows[base+i] }
	fail := func(why string) error {
		for i := range rows {
			if row(i).Note == "" {
				row(i).Note = "not measured: " + why
			}
		}
		return nil
	}
	if ok, why := b.haveKite(); !ok {
		return fail(why)
	}
	xvfb, err1 := exec.LookPath("Xvfb")
	xdotool, err2 := exec.LookPath("xdotool")
	if err1 != nil || err2 != nil {
		return fail("Xvfb and xdotool are needed (`make deps` installs them)")
	}
	s, err := b.seed(ctx, b.sz.msgs, b.sz.convs)
	if err != nil {
		return err
	}
	// A display of our own.
	display := ""
	var x *proc
	for d := 90; d < 110; d++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", d)); err == nil {
			continue
		}
		p, err := b.spawn("Xvfb", nil, xvfb, fmt.Sprintf(":%d", d), "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err != nil {
			return err
		}
		ok := false
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", d)); err == nil {
				ok = true
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ok {
			display, x = fmt.Sprintf(":%d", d), p
			break
		}
		p.stop()
	}
	if x == nil {
		return fail("Xvfb did not start")
	}
	defer x.stop()
	env := []string{"DISPLAY=" + display, "KITE_LOG=warn", "WAYLAND_DISPLAY="}
	t := time.Now()
	gui, err := b.spawn("kite GUI", env, b.kite, "--data-dir", s.dir, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
	if err != nil {
		return err
	}
	defer gui.stop()
	var shown time.Duration
	for time.Since(t) < 60*time.Second && shown == 0 {
		select {
		case <-gui.done:
			return fail("the GUI exited: " + lastLine(gui.errb.String()))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cmd := exec.CommandContext(ctx, xdotool, "search", "--onlyvisible", "--name", "^Kite")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.Output(); err == nil && strings.TrimSpace(string(out)) != "" {
			shown = time.Since(t)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if shown == 0 {
		return fail("no window named Kite appeared in 60 s")
	}
	row(0).Kite = f(shown.Seconds())
	row(0).Note = "from starting `kite` to its window being mapped (xdotool search --onlyvisible, polled every 10 ms); the first frame is not checked"
	b.logf("  GUI window after %v", shown.Round(time.Millisecond))
	time.Sleep(5 * time.Second)
	rss, err := rssMB(gui.cmd.Process.Pid)
	if err != nil {
		return err
	}
	row(2).Kite = f(rss)
	row(2).Note = "VmRSS after the window showed and 5 s idle"
	b.logf("  GUI RSS %s MB", num(rss))
	gui.stop()

	// Open the biggest conversation: the GUI logs how long its newest
	// page took from the open to being applied (KITE_LOG=info). --open
	// waits for an idle window, so this is the open, not the start.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.dir, "kite.db")+"?mode=ro&_query_only=1")
	if err != nil {
		return err
	}
	big, msgs, err := biggestConv(ctx, db)
	db.Close()
	if err != nil {
		return err
	}
	var opens []float64
	for range 5 {
		ms, err := b.guiOpen(ctx, env, s.dir, big)
		if err != nil {
			row(1).Note = "not measured: " + err.Error()
			return nil
		}
		opens = append(opens, ms)
	}
	row(1).Kite = f(percentile(opens, 50))
	row(1).Note = fmt.Sprintf("p50 of 5 starts with --open on the biggest conversation (%s messages), which opens it as a click would once the window is shown and idle (inbox loaded, UI thread idle for 250 ms): from the open to its newest page applied on the UI thread, as the GUI logs it; the frame that paints it follows", num(float64(msgs)))
	b.logf("  open conversation p50 %s ms", num(percentile(opens, 50)))
	return nil
}

var shownRE = regexp.MustCompile(`msg="conversation shown".* took_ms=([0-9.]+)`)

// guiOpen starts the GUI on conv and returns how long it says its newest
// page took to show.
func (b *bench) guiOpen(ctx context.Context, env []string, dir string, conv app.ConvID) (float64, error) {
	env = append(append([]string{}, env...), "KITE_LOG=info")
	gui, err := b.spawn("kite GUI", env, b.kite, "--data-dir", dir, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--open", conv.String())
	if err != nil {
		return 0, err
	}
	defer gui.stop()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := shownRE.FindStringSubmatch(gui.errb.String()); m != nil {
			return strconv.ParseFloat(m[1], 64)
		}
		select {
		case <-gui.done:
			return 0, fmt.Errorf("the GUI exited: %s", lastLine(gui.errb.String()))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return 0, errors.New("the GUI never said the conversation was shown")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// memoryBench: idle RSS of `kite serve` on the seeded data at two sizes,
// beside an idle bare libp2p host.
func (b *bench) memoryBench(ctx context.Context) error {
	const g = "memory"
	base := len(b.rep.Rows)
	b.add(Row{Group: g, Metric: fmt.Sprintf("idle resident memory with %s messages, headless", num(float64(b.sz.msgs))), Unit: "MB", Goal: Goal{"≤", 80}})
	row := &b.rep.Rows[base]
	if ok, why := b.haveKite(); !ok {
		return errors.New(why)
	}
	idle := func(msgs, convs int) (float64, error) {
		s, err := b.seed(ctx, msgs, convs)
		if err != nil {
			return 0, err
		}
		pp := &peerProc{name: "memory", dir: s.dir}
		if err := b.serve(ctx, pp); err != nil {
			return 0, err
		}
		defer pp.proc.stop()
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return rssMB(pp.proc.cmd.Process.Pid)
	}
	// The floor: an idle bare libp2p host process.
	srv, err := b.spawn("echo-server", nil, b.self, "echo-server")
	if err != nil {
		return err
	}
	r2, err := idle(b.sz.msgs2, b.sz.convs2)
	if err != nil {
		return err
	}
	r1, err := idle(b.sz.msgs, b.sz.convs)
	if err != nil {
		return err
	}
	floor, err := rssMB(srv.cmd.Process.Pid)
	srv.stop()
	if err != nil {
		return err
	}
	row.Kite, row.Floor, row.FloorName = f(r1), f(floor), "idle bare libp2p host"
	row.Note = "VmRSS of `kite serve` after 5 s idle"
	b.logf("  idle RSS %s MB (%d msgs), %s MB (%d msgs); bare host %s MB", num(r1), b.sz.msgs, num(r2), b.sz.msgs2, num(floor))
	b.scale(Scale{Metric: "idle resident memory, headless", Param: "messages", Unit: "MB", N1: float64(b.sz.msgs2), V1: r2, N2: float64(b.sz.msgs), V2: r1})
	return nil
}
