package node

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"kite/app"
)

// BenchmarkLiveSend times one text from SendText until the receiver's
// Service announces it stored, two nodes in this process on loopback. It
// reports the send (durable commit of the own event) and the whole trip
// as percentiles, the parts kitebench's live row is made of without its
// two local API hops.
func BenchmarkLiveSend(b *testing.B) {
	ctx := context.Background()
	a, c := newPeer(b, "ann"), newPeer(b, "bob")
	befriend(b, a, c)
	waitFor(b, 10*time.Second, "ann and bob connected", func() bool { return a.connected(c) && c.connected(a) })
	conv, err := a.svc.Direct(ctx, c.key, false)
	if err != nil {
		b.Fatal(err)
	}
	ups, stop := c.svc.Subscribe(64, nil)
	defer stop()
	wait := func(id app.EventID) {
		deadline := time.After(30 * time.Second)
		for {
			select {
			case u := <-ups:
				for _, ev := range u.Events {
					if ev.ID == id {
						return
					}
				}
			case <-deadline:
				b.Fatalf("bob did not store %x", id[:4])
			}
		}
	}
	send := func(i int) (time.Duration, time.Duration) {
		t0 := time.Now()
		ev, err := a.svc.SendText(ctx, conv, fmt.Sprintf("hello %d", i), app.EventID{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		wait(ev.ID)
		return t1.Sub(t0), time.Since(t0)
	}
	for i := range 20 { // connect and warm up
		send(i)
	}
	var sends, trips []time.Duration
	b.ResetTimer()
	for i := range b.N {
		s, tr := send(i)
		sends, trips = append(sends, s), append(trips, tr)
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p int) float64 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return float64(ds[(len(ds)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(pct(sends, 50), "send-p50-ms")
	b.ReportMetric(pct(trips, 50), "trip-p50-ms")
	b.ReportMetric(pct(trips, 99), "trip-p99-ms")
}
