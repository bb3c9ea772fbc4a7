package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"kite/app"
)

// ftsRows counts the search index's rows, and tells whether rows wait.
func ftsRows(t *testing.T, s *Store) (rows int, pending bool) {
	t.Helper()
	if err := s.w.QueryRow(`SELECT count(*) FROM messages_fts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return rows, s.ftsPending()
}

func wantHits(t *testing.T, s *Store, conv app.ConvID, query string, want int) {
	t.Helper()
	r, err := s.Search(ctx, query, conv, 10)
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	if len(r) != want {
		t.Errorf("search %q: %d hits, want %d", query, len(r), want)
	}
}

func TestSearchIndexIsDeferredButNeverStale(t *testing.T) {
	s, me, bob, conv := direct(t)
	s.ftsDelay = time.Hour // only searches index here
	a := bob.ev(t, conv, 1, text("alpha one"))
	b := bob.ev(t, conv, 2, text("beta two"))
	c := bob.ev(t, conv, 3, text("gamma three"))
	d := bob.ev(t, conv, 4, text("delta four"))
	mustIngest(t, s, me, a, b, c, d)
	if n, pending := ftsRows(t, s); n != 0 || !pending {
		t.Fatalf("after a small batch: %d index rows, pending %v; want 0 and pending", n, pending)
	}

	// Changes to rows not yet indexed touch only the rows.
	mustIngest(t, s, me, bob.ev(t, conv, 5, edit(a.Event.ID, "omega one")), bob.ev(t, conv, 6, unsend(b.Event.ID)))
	if err := s.DeleteForMe(ctx, c.Event.ID); err != nil {
		t.Fatal(err)
	}
	wantHits(t, s, conv, "alpha", 0)
	wantHits(t, s, conv, "omega", 1)
	wantHits(t, s, conv, "beta", 0)
	wantHits(t, s, conv, "gamma", 0)
	wantHits(t, s, conv, "delta", 1)
	if n, pending := ftsRows(t, s); n != 2 || pending {
		t.Fatalf("after a search: %d index rows, pending %v; want 2 and none", n, pending)
	}

	// Changes to indexed rows change the index.
	mustIngest(t, s, me, bob.ev(t, conv, 7, edit(d.Event.ID, "epsilon four")))
	wantHits(t, s, conv, "delta", 0)
	wantHits(t, s, conv, "epsilon", 1)

	// A clear hides pending rows from search too; later ones show.
	mustIngest(t, s, me, bob.ev(t, conv, 8, text("zeta five")))
	if err := s.ClearConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, me, bob.ev(t, conv, 9, text("eta six")))
	wantHits(t, s, conv, "zeta", 0)
	wantHits(t, s, conv, "omega", 0)
	wantHits(t, s, conv, "eta", 1)
}

func TestSearchIndexPendingRowsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kite.db")
	s, me, bob, conv := directAt(t, path)
	s.ftsDelay = time.Hour
	mustIngest(t, s, me, bob.ev(t, conv, 1, text("theta before closing")))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, pending := ftsRows(t, s); !pending {
		t.Fatal("after reopening: no rows pending, want the one left unindexed")
	}
	wantHits(t, s, conv, "theta", 1)
}

func TestSearchIndexCatchesUpByItself(t *testing.T) {
	t.Run("a large batch in its own transaction", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		s.ftsDelay = time.Hour
		evs := make([]app.Incoming, ftsBatch)
		for i := range evs {
			evs[i] = bob.ev(t, conv, uint64(i+1), text(fmt.Sprintf("bulk message %d", i)))
		}
		mustIngest(t, s, me, evs...)
		if n, pending := ftsRows(t, s); n != ftsBatch || pending {
			t.Fatalf("after a batch of %d: %d index rows, pending %v; want all and none", ftsBatch, n, pending)
		}
	})
	t.Run("after a row that was undone", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		s.ftsDelay = time.Hour
		mustIngest(t, s, me, bob.ev(t, conv, 1, text("lambda")))
		// A savepoint that undoes a refused event leaves msgTop naming a
		// row that is gone; one search must settle it for good.
		s.wmu.Lock()
		s.msgTop += 3
		s.wmu.Unlock()
		wantHits(t, s, conv, "lambda", 1)
		if n, pending := ftsRows(t, s); n != 1 || pending {
			t.Fatalf("after a search: %d index rows, pending %v; want 1 and none", n, pending)
		}
	})
	t.Run("a few rows after a moment", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		s.ftsDelay = 10 * time.Millisecond
		mustIngest(t, s, me, bob.ev(t, conv, 1, text("iota")), bob.ev(t, conv, 2, text("kappa")))
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, pending := ftsRows(t, s)
			if n == 2 && !pending {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("5 s after two messages: %d index rows, pending %v; want 2 and none", n, pending)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
