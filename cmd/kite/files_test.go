package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kite/app"
)

// TestSendFileKillResume sends 100 MiB with `kite send-file` between two
// `kite serve`, kills the receiver with SIGKILL half way, restarts it, and
// checks that it resumes (never going back) and that `kite save` writes
// the same bytes.
func TestSendFileKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes and moves 100 MiB")
	}
	start := time.Now()
	const size = 100 << 20
	a, b, da, db := connectedPair(t)

	seed := rand.Uint64()
	t.Logf("100 MiB of random bytes, seed %d", seed)
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 2))
	for i := 0; i < size; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	want := sha256.Sum256(data)
	src := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	data = nil

	out := mustKite(t, "send-file", "bob", src, "--caption", "the big one", "--data-dir", da)
	id, _, ok := strings.Cut(strings.TrimSpace(out), " in ")
	if !ok || len(id) != 64 {
		t.Fatalf("kite send-file: got %q, want 'ID in CONV'", out)
	}
	var msg app.Message
	a.do(http.MethodGet, "/v1/messages/"+id, nil, &msg)
	if msg.Media == nil || msg.Media.Size != size {
		t.Fatalf("sent message: got %+v", msg.Media)
	}
	h := hex.EncodeToString(msg.Media.Hash[:])
	bitmap := filepath.Join(db, "blobs", "partial", h, "bitmap")

	// Watch bob's partial on disk and kill him half way.
	chunks := (size + 256<<10 - 1) / (256 << 10)
	have := func() int {
		b, err := os.ReadFile(bitmap)
		if err != nil || len(b) != chunks {
			return -1
		}
		return chunks - bytes.Count(b, []byte{0})
	}
	var at int
	waitFor(t, 30*time.Second, "bob half way", func() bool {
		at = have()
		return at >= chunks/2
	})
	b.kill()
	killedAt := have()
	t.Logf("killed bob with %d of %d chunks on disk (%d seen at the kill)", killedAt, chunks, at)
	if killedAt >= chunks || killedAt < 0 {
		t.Fatalf("the transfer was over before the kill (%d of %d chunks)", killedAt, chunks)
	}

	// Restart: the partial resumes from where it was, never from zero.
	b = startServe(t, db)
	var done bool
	waitFor(t, 40*time.Second, "bob finishes after the restart", func() bool {
		var ts []app.Transfer
		b.do(http.MethodGet, "/v1/transfers", nil, &ts)
		for _, tr := range ts {
			if hex.EncodeToString(tr.Hash[:]) != h || tr.Total <= 0 {
				continue
			}
			if floor := int64(killedAt) * (256 << 10); tr.Done < floor {
				t.Fatalf("after the restart bob has %d bytes; he had %d before: the transfer started over", tr.Done, floor)
			}
			if tr.Error != "" {
				t.Fatalf("transfer failed: %s", tr.Error)
			}
			done = tr.Done == tr.Total
		}
		return done
	})

	dst := filepath.Join(t.TempDir(), "saved.bin")
	mustKite(t, "save", id[:12], dst, "--wait", "--data-dir", db)
	f, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum := sha256.New()
	io.Copy(sum, f)
	if got := sum.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("saved file: got sha256 %x, want %x", got[:8], want[:8])
	}
	if _, err := os.Stat(filepath.Join(db, "blobs", "partial", h)); !os.IsNotExist(err) {
		t.Errorf("the partial is still on disk after the transfer: %v", err)
	}

	// View-once media cannot be saved.
	small := filepath.Join(t.TempDir(), "once.bin")
	os.WriteFile(small, []byte("only once"), 0o600)
	if out, err := kite(t, "send-file", "bob", small, "--view-once", "--data-dir", da); err == nil {
		once, _, _ := strings.Cut(strings.TrimSpace(out), " in ")
		waitFor(t, 10*time.Second, "bob gets the view-once message", func() bool {
			return b.api.Do(context.Background(), http.MethodGet, "/v1/messages/"+once, nil, nil) == nil
		})
		_, err := kite(t, "save", once, filepath.Join(t.TempDir(), "x"), "--data-dir", db)
		if err == nil || !strings.Contains(plain(err), "view-once") {
			t.Fatalf("kite save of view-once media: got %v, want a refusal in plain words", err)
		}
	} else {
		t.Logf("view-once send not available here: %s", plain(err))
	}
	t.Logf("whole test: %v", time.Since(start))
}
