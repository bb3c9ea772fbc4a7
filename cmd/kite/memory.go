package main

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The desktop app's memory policy: how much of Go's heap stays resident
// while the window sits idle.
//
// Left alone, Go lets the heap grow to twice what is live (GOGC=100) and
// keeps freed pages resident up to about that goal. For Kite's window
// that is ~30 MB live and ~60 MB resident: start-up (fonts parsed, the
// first pages read, the network's contact load) leaves ~25 MB of garbage
// that stays resident for as long as the window is idle, and background
// work (the network's periodic reloads) fills it up again.
//
// So once the window has settled after start-up, settleMemory returns that
// garbage to the OS (debug.FreeOSMemory: one full collection off the UI
// thread, ~10 ms) and from then on keeps a soft memory limit
// (debug.SetMemoryLimit) of what is live plus a headroom, sized anew
// after every collection: background work then reuses the same pages
// instead of growing the heap, and the runtime hands back what goes over.
//
// A tight limit means more collections. They are cheap for a heap this
// size (a few ms of CPU each), but so that nothing the person does gets
// slower, the limit is lifted while collection work (assists, dedicated
// workers, pauses; not marking on otherwise idle CPUs) has taken more
// than memBusyCPU of the CPU over the last memWindow: under load the
// collector paces itself exactly as it would without this policy. The
// limit comes back at the first collection after the load ends.
//
// GOGC or GOMEMLIMIT in the environment turn the policy off: whoever set
// them chose for themselves.

const (
	// memSettle is how long after the window first goes idle the
	// start-up garbage is returned: by then the start's background work
	// (the network's contact load, the first pictures) is done, and a
	// click or `kite --open` right at the first idle moment does not
	// meet the collection.
	memSettle = 2 * time.Second
	// memMinHeadroom and memHeadroomShare size the headroom over the live
	// heap while quiet: a quarter of it, at least 8 MiB.
	memMinHeadroom   = 8 << 20
	memHeadroomShare = 4
	// memWindow and memBusyCPU define "busy": collection work above 1 %
	// of the available CPU over the last 10 s.
	memWindow  = 10 * time.Second
	memBusyCPU = 0.01
)

// settleMemory waits for the window to settle (idle reports when it is,
// false if ctx ended first), returns the start-up garbage to the OS and
// keeps the idle limit from then on.
func settleMemory(ctx context.Context, idle func(ctx context.Context) bool) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if !idle(ctx) {
		return
	}
	select {
	case <-time.After(memSettle):
	case <-ctx.Done():
		return
	}
	if !idle(ctx) {
		return
	}
	debug.FreeOSMemory()
	t := &memTuner{setLimit: debug.SetMemoryLimit}
	t.collected(readMem())
	t.arm()
	go func() {
		<-ctx.Done()
		t.stop()
	}()
}

// memSample is the runtime's memory and collection CPU as of one
// collection.
type memSample struct {
	at      time.Time
	gcCPU   float64 // seconds of collection work that competes with the program
	cpu     float64 // seconds of CPU available (GOMAXPROCS × wall clock)
	live    uint64  // live heap after the collection
	inUse   uint64  // held from the OS and not free: total − released − free heap
	garbage uint64  // dead objects not yet swept
}

var memMetrics = []string{
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/mark/dedicated:cpu-seconds",
	"/cpu/classes/gc/pause:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
}

func readMem() memSample {
	s := make([]metrics.Sample, len(memMetrics))
	for i, name := range memMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	f := func(i int) float64 {
		if s[i].Value.Kind() == metrics.KindFloat64 {
			return s[i].Value.Float64()
		}
		return 0
	}
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	m := memSample{
		at:    time.Now(),
		gcCPU: f(0) + f(1) + f(2),
		cpu:   f(3),
		live:  u(4),
	}
	total, released, free, objects := u(5), u(6), u(7), u(8)
	if held := released + free; total > held {
		m.inUse = total - held
	}
	if objects > m.live {
		m.garbage = objects - m.live
	}
	return m
}

// memTuner sets the memory limit after every collection.
type memTuner struct {
	setLimit func(int64) int64
	// mu guards the fields below.
	mu      sync.Mutex
	samples []memSample // the collections of about the last memWindow, oldest first
	stopped bool
}

// arm has t.collected run after the next collection, and so on after
// every one: a finalizer runs once the collector has found its object
// unreachable.
func (t *memTuner) arm() {
	// A pointer inside keeps it out of the tiny allocator, whose objects
	// may share a block and never be finalized.
	runtime.SetFinalizer(&memSentinel{t}, func(*memSentinel) {
		t.mu.Lock()
		stopped := t.stopped
		t.mu.Unlock()
		if stopped {
			return
		}
		t.collected(readMem())
		t.arm()
	})
}

type memSentinel struct{ t *memTuner }

// stop lifts the limit for good.
func (t *memTuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.setLimit(math.MaxInt64)
}

// collected sets the limit for the collection described by s.
func (t *memTuner) collected(s memSample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.samples = append(t.samples, s)
	// Keep the newest sample at least memWindow old as the window's start.
	for len(t.samples) > 2 && s.at.Sub(t.samples[1].at) >= memWindow {
		t.samples = t.samples[1:]
	}
	t.setLimit(memLimit(t.samples[0], s))
}

// memLimit is the limit after the collection now, given the one at the
// start of the window: math.MaxInt64 (none) while busy, otherwise what is
// held minus the garbage, plus the headroom.
func memLimit(start, now memSample) int64 {
	if busy(start, now) {
		return math.MaxInt64
	}
	headroom := max(uint64(memMinHeadroom), now.live/memHeadroomShare)
	limit := now.inUse - min(now.garbage, now.inUse) + headroom
	return int64(min(limit, math.MaxInt64))
}

// busy reports whether collection work between start and now took more
// than memBusyCPU of the CPU, counting a window shorter than memWindow as
// memWindow long (so one burst of collections right after a quiet spell is
// not "busy").
func busy(start, now memSample) bool {
	cpu := now.cpu - start.cpu
	if span := now.at.Sub(start.at); span < memWindow && span > 0 {
		cpu *= float64(memWindow) / float64(span)
	}
	if cpu <= 0 {
		return false
	}
	return (now.gcCPU-start.gcCPU)/cpu > memBusyCPU
}
