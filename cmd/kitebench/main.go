// Command kitebench measures every performance goal of Kite beside the raw
// stack it is built on, in one run, and writes a report.
//
// It seeds data with `kite demo seed` (fixed seed, so runs compare), reads
// it back through app/store, runs two `kite serve` processes on loopback
// for the network figures, and measures the floors itself in the same run:
// a bare go-libp2p stream echo between two processes, a bare SQLite batch
// insert and FTS5 query over the same texts, NaCl box and Ed25519.
//
//	go run -tags sqlite_fts5 ./cmd/kitebench -kite ./bin/kite -out BENCHMARKS.md
//
// Flags: -kite (the kite binary), -out (the Markdown report; the JSON goes
// beside it with a .json extension), -size full|small (small: 100,000
// messages in 1,000 conversations, for a quick check) and -only (a comma
// list of metric groups: crypto, storage, net, fanout, blob, gui, memory, media)
// and -profile DIR (a CPU profile of every `kite serve` it starts, and of
// the in-process fan-out sends).
//
// The same binary has helper modes for the libp2p floor, run as separate
// processes: `kitebench echo-server` and `kitebench echo-client ADDR`.
// Every process and temp dir the harness makes is removed when it ends,
// also on Ctrl-C.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sizes of one run.
type sizes struct {
	name          string
	msgs, convs   int // the main data set
	msgs2, convs2 int // the second size, for the scaling section
	backlog       int // messages in the backlog sync
	backlog2      int // second size for scaling
	e2eBacklog    int // messages in the E2E and plain backlog used for the overhead ratio
	liveSends     int
}

var sizeSets = map[string]sizes{
	"full":  {name: "full", msgs: 1_000_000, convs: 10_000, msgs2: 100_000, convs2: 1_000, backlog: 100_000, backlog2: 50_000, e2eBacklog: 20_000, liveSends: 500},
	"small": {name: "small", msgs: 100_000, convs: 1_000, msgs2: 10_000, convs2: 100, backlog: 10_000, backlog2: 5_000, e2eBacklog: 5_000, liveSends: 200},
}

var allGroups = []string{"crypto", "storage", "net", "fanout", "blob", "gui", "memory", "media"}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "echo-server":
			exit(echoServer(os.Args[2:]))
		case "echo-client":
			exit(echoClient(os.Args[2:]))
		}
	}
	kite := flag.String("kite", "./bin/kite", "path of the kite binary")
	out := flag.String("out", "BENCHMARKS.md", "Markdown report to write; the JSON goes beside it")
	size := flag.String("size", "full", "full (1,000,000 messages) or small (100,000, a quick check)")
	profiles := flag.String("profile", "", "folder for a CPU profile of every kite serve (for go tool pprof)")
	only := flag.String("only", "", "comma list of metric groups to run: "+strings.Join(allGroups, ", ")+" (default all)")
	flag.Parse()
	sz, ok := sizeSets[*size]
	if !ok {
		fmt.Fprintln(os.Stderr, "kitebench: -size is full or small")
		os.Exit(2)
	}
	groups := map[string]bool{}
	for _, g := range strings.Split(*only, ",") {
		if g = strings.TrimSpace(g); g != "" {
			if !contains(allGroups, g) {
				fmt.Fprintf(os.Stderr, "kitebench: unknown group %q (have %s)\n", g, strings.Join(allGroups, ", "))
				os.Exit(2)
			}
			groups[g] = true
		}
	}
	if len(groups) == 0 {
		for _, g := range allGroups {
			groups[g] = true
		}
	}
	// A closed stdout (kitebench | head) must not kill us before cleanup.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	b, err := newBench(*kite, sz, groups)
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "kitebench:", err)
		os.Exit(1)
	}
	b.profiles = *profiles
	err = b.run(ctx, *out)
	b.cleanup()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kitebench:", err)
		os.Exit(1)
	}
}

func exit(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "kitebench:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// bench is one run.
type bench struct {
	kite   string // absolute path of the kite binary
	self   string // this executable, for helper processes
	sz     sizes
	groups map[string]bool
	tmp    string
	rep    *Report
	start  time.Time

	mu    sync.Mutex
	procs []*proc

	// seeded data dirs by message count, shared between groups.
	seeded map[int]*seedResult
	echo   *echoResult // the libp2p floor, once measured

	// profiles, when set, is a folder where every `kite serve` writes a
	// CPU profile (KITE_CPUPROFILE), named by peer and start order.
	profiles string
	served   int
}

func newBench(kite string, sz sizes, groups map[string]bool) (*bench, error) {
	abs, err := filepath.Abs(kite)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kitebench-")
	if err != nil {
		return nil, err
	}
	return &bench{kite: abs, self: self, sz: sz, groups: groups, tmp: tmp, seeded: map[int]*seedResult{},
		rep: &Report{Size: sz.name, Machine: machine()}}, nil
}

func (b *bench) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), line)
}

func (b *bench) add(r Row)     { b.rep.Rows = append(b.rep.Rows, r) }
func (b *bench) scale(s Scale) { b.rep.Scaling = append(b.rep.Scaling, s) }

// notMeasured adds a row without a figure, saying why.
func (b *bench) notMeasured(group, metric, unit string, goal Goal, why string) {
	b.add(Row{Group: group, Metric: metric, Unit: unit, Goal: goal, Note: "not measured: " + why})
}

func (b *bench) run(ctx context.Context, out string) error {
	b.start = time.Now()
	b.rep.Started = b.start
	b.rep.Machine.LoadStart = loadavg()
	b.logf("kitebench: size %s, groups %v, temp dir %s", b.sz.name, b.groupList(), b.tmp)
	if _, err := os.Stat(b.kite); err != nil {
		b.logf("no kite binary at %s: metrics that need it are not measured", b.kite)
	}
	steps := []struct {
		group string
		fn    func(context.Context) error
	}{
		{"crypto", b.cryptoBench},
		{"storage", b.storageBench},
		{"net", b.netBench},
		{"fanout", b.fanoutBench},
		{"blob", b.blobBench},
		{"gui", b.guiBench},
		{"memory", b.memoryBench},
		{"media", b.mediaBench},
	}
	for _, s := range steps {
		if !b.groups[s.group] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		b.logf("== %s", s.group)
		if err := s.fn(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.logf("%s failed: %v", s.group, err)
			b.rep.Log = append(b.rep.Log, fmt.Sprintf("%s: %v", s.group, err))
			b.failRows(s.group, err)
		}
		b.logf("== %s done in %v", s.group, time.Since(t).Round(time.Millisecond))
		b.stopAll() // no process outlives its group
	}
	b.rep.WallSecs = time.Since(b.start).Seconds()
	b.rep.Machine.LoadEnd = loadavg()
	fmt.Println()
	fmt.Print(textTable(b.rep.Rows))
	fmt.Println()
	fmt.Printf("wall time %v on %d cores; report in %s\n", time.Since(b.start).Round(time.Second), b.rep.Machine.Cores, out)
	return writeReport(b.rep, out)
}

// failRows marks the rows a failed group left without a figure.
func (b *bench) failRows(group string, err error) {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	for i := range b.rep.Rows {
		r := &b.rep.Rows[i]
		if r.Group == group && r.Kite == nil && r.Note == "" {
			r.Note = "not measured: the run failed: " + msg
		}
	}
}

func (b *bench) groupList() []string {
	var out []string
	for _, g := range allGroups {
		if b.groups[g] {
			out = append(out, g)
		}
	}
	return out
}

func (b *bench) cleanup() {
	b.stopAll()
	if b.tmp != "" {
		if err := os.RemoveAll(b.tmp); err != nil {
			fmt.Fprintln(os.Stderr, "kitebench: remove temp dir:", err)
		}
	}
}

// proc is a child process the harness started.
type proc struct {
	name  string
	cmd   *exec.Cmd
	lines chan string // stdout, line by line
	done  chan struct{}
	err   error
	errb  *tailBuffer
}

// tailBuffer keeps the last bytes written to it (a child's stderr).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 8192 {
		t.b = t.b[len(t.b)-8192:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// spawn runs a child process; its stdout lines arrive on p.lines.
func (b *bench) spawn(name string, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	// Its own group, so our Ctrl-C handling stops it in order; killed if we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{}), errb: &tailBuffer{}}
	cmd.Stderr = p.errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads: drop
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.lines)
		close(p.done)
	}()
	return p, nil
}

// stop ends p: SIGTERM to its group, SIGKILL after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (b *bench) stopAll() {
	b.mu.Lock()
	ps := b.procs
	b.procs = nil
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
}

// kiteCmd runs a kite command to its end and returns its stdout.
func (b *bench) kiteCmd(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.kite, args...)
	cmd.Env = append(os.Environ(), "KITE_LOG=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return so.String(), fmt.Errorf("kite %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(se.String()))
	}
	return so.String(), nil
}

// haveKite reports whether the kite binary exists, with a reason if not.
func (b *bench) haveKite() (bool, string) {
	if _, err := os.Stat(b.kite); err != nil {
		return false, "no kite binary at " + b.kite + " (build it with `make build`)"
	}
	return true, ""
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", kb/1024/1024)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	return m
}

// rssMB reads a process's resident set size (VmRSS) in MB.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb); err != nil {
				return 0, err
			}
			return kb * 1024 / 1e6, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
