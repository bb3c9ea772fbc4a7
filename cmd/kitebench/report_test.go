package main

import (
	"math"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {100, 10}, {0, 1}, {10, 1}, {90, 9}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its input")
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}

func TestRatioAndGoal(t *testing.T) {
	lat := Row{Metric: "latency", Unit: "ms", Kite: f(2), Floor: f(0.5), Goal: Goal{"≤", 1}}
	if r, ok := lat.Ratio(); !ok || r != 4 {
		t.Errorf("latency ratio = %v %v, want 4", r, ok)
	}
	if lat.Met() != "no" {
		t.Errorf("2 ms ≤ 1 ms met = %q", lat.Met())
	}
	rate := Row{Metric: "ingest", Unit: "events/s", Kite: f(25000), Floor: f(100000), Goal: Goal{"≥", 20000}}
	if r, ok := rate.Ratio(); !ok || r != 4 {
		t.Errorf("rate ratio = %v %v, want 4 (floor ÷ Kite)", r, ok)
	}
	if rate.Met() != "yes" {
		t.Errorf("25000 ≥ 20000 met = %q", rate.Met())
	}
	missing := Row{Metric: "gui", Unit: "s", Goal: Goal{"≤", 1}, Note: "not measured: no GUI"}
	if _, ok := missing.Ratio(); ok || missing.Met() != "—" {
		t.Errorf("unmeasured row: ratio ok %v, met %q", ok, missing.Met())
	}
	c := missing.cells()
	if c[1] != "not measured" {
		t.Errorf("unmeasured cell = %q", c[1])
	}
	md := mdTable([]Row{lat, rate, missing})
	for _, want := range []string{"| latency | 2.00 ms | 0.500 ms | ×4.00 | ≤ 1.00 ms | no |", "| ingest | 25,000 events/s |", "not measured"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestPerDoubling(t *testing.T) {
	lin := Scale{N1: 100, V1: 1, N2: 1000, V2: 10}
	if k, ok := lin.PerDoubling(); !ok || math.Abs(k-2) > 1e-9 {
		t.Errorf("linear per doubling = %v", k)
	}
	flat := Scale{N1: 100, V1: 3, N2: 1000, V2: 3}
	if k, _ := flat.PerDoubling(); math.Abs(k-1) > 1e-9 || shape(k) != "about constant" {
		t.Errorf("constant per doubling = %v (%s)", k, shape(k))
	}
	if _, ok := (Scale{N1: 1, V1: 0, N2: 2, V2: 1}).PerDoubling(); ok {
		t.Error("a zero figure gave a fit")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{1234567: "1,234,567", 12.345: "12.3", 0.5: "0.500", 250: "250", 3.14159: "3.14"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
