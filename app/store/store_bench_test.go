package store

import (
	"context"
	"fmt"
	"testing"

	"kite/app"
)

// BenchmarkIngest measures remote text events with the search index on,
// in batches of 1,000 (a backlog) and one at a time (live delivery, which
// a group member does for every message); signing happens outside the
// timer. The context can be cancelled, as the network's always can.
func BenchmarkIngest(b *testing.B) {
	for _, kind := range []string{"direct", "group"} {
		for _, batch := range []int{1000, 1} {
			b.Run(fmt.Sprintf("%s/batch=%d", kind, batch), func(b *testing.B) {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				s := openStore(b)
				me, bob := newPeer(1), newPeer(2)
				conv := app.DirectConvID(me.key, bob.key, false)
				if kind == "group" {
					conv = group(b, s, me, bob, me)
				}
				lamport := uint64(1)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					evs := make([]app.Incoming, batch)
					for j := range evs {
						lamport++
						evs[j] = bob.ev(b, conv, lamport, text(fmt.Sprintf("message %d about the quick brown fox #%d", lamport, j)))
					}
					b.StartTimer()
					out, err := s.Ingest(ctx, me.key, evs)
					if err != nil {
						b.Fatal(err)
					}
					if out[batch-1].Err != nil {
						b.Fatal(out[batch-1].Err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkInboxPage reads pages of 50 from an inbox of 2,000
// conversations.
func BenchmarkInboxPage(b *testing.B) {
	s := openStore(b)
	me := newPeer(1)
	var evs []app.Incoming
	for i := 0; i < 2000; i++ {
		p := newPeer(10 + i)
		evs = append(evs, p.ev(b, app.DirectConvID(me.key, p.key, false), uint64(i+1), text("hello there")))
	}
	mustIngest(b, s, me, evs...)
	first, err := s.Inbox(ctx, app.InboxQuery{Folder: app.Requests})
	if err != nil || len(first) != 50 {
		b.Fatalf("inbox: %d rows, %v", len(first), err)
	}
	mid := first[len(first)-1]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := app.InboxQuery{Folder: app.Requests, Limit: 50}
		if i%2 == 1 {
			q.Before = &app.InboxCursor{LastAt: mid.LastAt, ID: mid.ID}
		}
		cs, err := s.Inbox(ctx, q)
		if err != nil || len(cs) != 50 {
			b.Fatalf("inbox: %d rows, %v", len(cs), err)
		}
	}
}

// BenchmarkMessagesPage reads pages of 50 from the middle of a
// conversation of 20,000 messages.
func BenchmarkMessagesPage(b *testing.B) {
	s := openStore(b)
	me, bob := newPeer(1), newPeer(2)
	conv := app.DirectConvID(me.key, bob.key, false)
	for k := 0; k < 20; k++ {
		evs := make([]app.Incoming, 1000)
		for j := range evs {
			n := uint64(k*1000 + j + 1)
			evs[j] = bob.ev(b, conv, n, text(fmt.Sprintf("message %d", n)))
		}
		mustIngest(b, s, me, evs...)
	}
	cur := app.Cursor{Lamport: 10000, Author: bob.key, Seq: 10000}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ms, err := s.Messages(ctx, conv, cur, 50)
		if err != nil || len(ms) != 50 {
			b.Fatalf("messages: %d, %v", len(ms), err)
		}
	}
}

// BenchmarkRawInsert is the bare stack BenchmarkIngest is judged against:
// the same driver inserting 1,000 rows of similar size per transaction,
// one prepared statement, plus the search index row.
func BenchmarkRawInsert(b *testing.B) {
	s := openStore(b)
	if _, err := s.w.Exec(`CREATE TABLE raw (id BLOB PRIMARY KEY, conv BLOB, body BLOB)`); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx, err := s.w.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, _ := tx.Prepare(`INSERT INTO raw (id, conv, body) VALUES (?, ?, ?)`)
		fts, _ := tx.Prepare(`INSERT INTO messages_fts (rowid, text) VALUES (?, ?)`)
		for j := 0; j < 1000; j++ {
			n++
			id := posKey(uint64(n), app.PeerKey{}, 0)[:32]
			if _, err := st.Exec(id, id, make([]byte, 300)); err != nil {
				b.Fatal(err)
			}
			if _, err := fts.Exec(n, fmt.Sprintf("message %d about the quick brown fox #%d", n, j)); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		fts.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
}
