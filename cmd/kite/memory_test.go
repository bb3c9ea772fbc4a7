package main

import (
	"math"
	"testing"
	"time"
)

func TestMemLimit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const mib = 1 << 20
	quiet := memSample{at: t0, gcCPU: 1, cpu: 100}
	tests := []struct {
		name       string
		start, now memSample
		want       int64
	}{
		{"quiet: held minus garbage plus 8 MiB",
			quiet, memSample{at: t0.Add(30 * time.Second), gcCPU: 1.01, cpu: 160, live: 28 * mib, inUse: 50 * mib, garbage: 12 * mib},
			(50 - 12 + 8) * mib},
		{"quiet, big heap: a quarter of live as headroom",
			quiet, memSample{at: t0.Add(30 * time.Second), gcCPU: 1.01, cpu: 160, live: 200 * mib, inUse: 230 * mib},
			(230 + 50) * mib},
		{"busy: 2 % of the CPU on collection lifts the limit",
			quiet, memSample{at: t0.Add(10 * time.Second), gcCPU: 1.4, cpu: 120, live: 28 * mib, inUse: 50 * mib},
			math.MaxInt64},
		{"a burst right after a quiet spell counts over a whole window",
			// 30 ms of collection in 0.1 s on 2 CPUs: 15 % of that
			// moment, but 0.15 % of a 10 s window.
			quiet, memSample{at: t0.Add(100 * time.Millisecond), gcCPU: 1.03, cpu: 100.2, live: 28 * mib, inUse: 40 * mib},
			(40 + 8) * mib},
		{"garbage above held is clamped",
			quiet, memSample{at: t0.Add(time.Minute), gcCPU: 1, cpu: 220, live: 4 * mib, inUse: 10 * mib, garbage: 20 * mib},
			8 * mib},
		{"first collection: no window yet",
			quiet, quiet,
			8 * mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memLimit(tt.start, tt.now); got != tt.want {
				t.Errorf("memLimit = %d MiB, want %d MiB", got/mib, tt.want/mib)
			}
		})
	}
}

// TestMemTunerWindow: the tuner judges "busy" over the last memWindow of
// collections, so a busy spell lifts the limit and the first quiet
// collection after it brings it back.
func TestMemTunerWindow(t *testing.T) {
	const mib = 1 << 20
	var limits []int64
	tu := &memTuner{setLimit: func(n int64) int64 { limits = append(limits, n); return 0 }}
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration, gc, cpu float64) memSample {
		return memSample{at: t0.Add(d), gcCPU: gc, cpu: cpu, live: 30 * mib, inUse: 40 * mib}
	}
	tu.collected(at(0, 0, 0))
	// Busy: 0.5 s of collection work in 5 s on 2 CPUs.
	tu.collected(at(5*time.Second, 0.5, 10))
	// Quiet for 20 s since: the window now starts after the busy spell.
	tu.collected(at(25*time.Second, 0.5, 50))
	tu.collected(at(26*time.Second, 0.5, 52))
	want := []int64{48 * mib, math.MaxInt64, 48 * mib, 48 * mib}
	if len(limits) != len(want) {
		t.Fatalf("got %d limits, want %d", len(limits), len(want))
	}
	for i := range want {
		if limits[i] != want[i] {
			t.Errorf("limit %d = %d, want %d", i, limits[i], want[i])
		}
	}
	if len(tu.samples) > 3 {
		t.Errorf("kept %d samples, want the window's only", len(tu.samples))
	}
	tu.stop()
	if got := limits[len(limits)-1]; got != math.MaxInt64 {
		t.Errorf("after stop the limit is %d, want none", got)
	}
	n := len(limits)
	tu.collected(at(40*time.Second, 0.5, 80))
	if len(limits) != n {
		t.Errorf("a collection after stop set the limit again")
	}
}
