package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kite/app"
	"kite/app/pb"
)

// handFetcher moves sealed copies between devices as the network would:
// the recipient asks, the sender answers only that recipient.
type handFetcher struct {
	me    *device
	peers map[app.PeerKey]*device
	calls int
}

func (f *handFetcher) FetchEphemeral(ctx context.Context, msg app.EventID, from app.PeerKey, size int) error {
	f.calls++
	sender := f.peers[from]
	sealed, err := sender.svc.SealedEphemeral(msg, f.me.key)
	if err != nil {
		return err
	}
	if len(sealed) != size {
		return errors.New("size differs from the event")
	}
	if err := f.me.svc.StoreEphemeral(ctx, msg, from, sealed); err != nil {
		return err
	}
	sender.svc.EphemeralDelivered(msg, f.me.key)
	return nil
}

func fetcherFor(me *device, peers ...*device) *handFetcher {
	f := &handFetcher{me: me, peers: map[app.PeerKey]*device{}}
	for _, p := range peers {
		f.peers[p.key] = p
	}
	me.svc.SetEphemeralFetcher(f)
	return f
}

func photo(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sendPhoto(t *testing.T, from *device, conv app.ConvID, data []byte, mode uint32) app.Event {
	t.Helper()
	ev, err := from.svc.SendEphemeral(context.Background(), conv, data,
		&pb.Media{Mode: mode, Mime: "image/png", Name: "p.png", Width: 4, Height: 4, Thumbnail: []byte("a thumbnail")})
	if err != nil {
		t.Fatalf("send view-once: %v", err)
	}
	return ev
}

func view(t *testing.T, d *device, id app.EventID) []byte {
	t.Helper()
	data, release, err := d.svc.ViewEphemeral(context.Background(), id)
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	got := bytes.Clone(data)
	release()
	if slices.ContainsFunc(data, func(b byte) bool { return b != 0 }) {
		t.Fatalf("after release the viewed buffer still holds bytes")
	}
	return got
}

func state(t *testing.T, d *device, id app.EventID, want string) {
	t.Helper()
	if got := d.svc.EphemeralState(id); got != want {
		t.Fatalf("%s: state: got %q, want %q", handle(d), got, want)
	}
}

func pair(t *testing.T) (a, b *device, conv app.ConvID) {
	t.Helper()
	a, b = newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, err := a.svc.Direct(context.Background(), b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, conv
}

func TestEphemeralViewOnce(t *testing.T) {
	ctx := context.Background()
	a, b, conv := pair(t)
	data := photo(t, 3000)
	ev := sendPhoto(t, a, conv, data, app.ModeViewOnce)

	m, err := a.svc.Message(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Media == nil || m.Media.Mode != app.ModeViewOnce || len(m.Media.Thumbnail) != 0 {
		t.Fatalf("sender's message: got media %+v, want mode 1 and no thumbnail", m.Media)
	}
	if m.Media.Hash != app.Hash(sha256.Sum256(data)) || m.Media.Size != uint64(len(data)) {
		t.Fatalf("media hash/size: got %x/%d, want the SHA-256 and size of the data", m.Media.Hash, m.Media.Size)
	}
	if bytes.Contains(ev.Body, data[:64]) {
		t.Fatal("the event body holds the media bytes")
	}
	state(t, a, ev.ID, app.EphemeralWaiting)

	deliver(t, a, b, conv)
	state(t, b, ev.ID, app.EphemeralWaiting)
	if _, _, err := b.svc.ViewEphemeral(ctx, ev.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("view with no network: got %v, want ErrNotFound (waiting)", err)
	}
	fetcherFor(b, a)
	if err := b.svc.FetchEphemeral(ctx, ev.ID); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	state(t, b, ev.ID, app.EphemeralReady)
	if _, err := a.svc.SealedEphemeral(ev.ID, b.key); !errors.Is(err, app.ErrTooLate) {
		t.Fatalf("sender's copy after delivery: got %v, want ErrTooLate (zeroed and dropped)", err)
	}
	if got := view(t, b, ev.ID); !bytes.Equal(got, data) {
		t.Fatal("viewed bytes differ from what was sent")
	}
	state(t, b, ev.ID, app.EphemeralViewed)
	_, _, err = b.svc.ViewEphemeral(ctx, ev.ID)
	wantErr(t, "second view", err, app.ErrTooLate)
	if !strings.Contains(err.Error(), "already viewed") {
		t.Fatalf("second view: got %q, want it to say already viewed", err)
	}

	deliver(t, b, a, conv)
	m, _ = a.svc.Message(ctx, ev.ID)
	if !m.Media.Opened {
		t.Fatal("sender: got Opened false after the recipient viewed it")
	}
	by, err := a.svc.OpenedBy(ctx, ev.ID)
	if err != nil || len(by) != 1 || by[0] != b.key {
		t.Fatalf("opened by: got %v, %v, want [bob]", by, err)
	}
	state(t, a, ev.ID, app.EphemeralViewed)

	// Neither side can pass it on; the sender cannot view it either.
	_, err = b.svc.Forward(ctx, ev.ID, []string{"ada"})
	wantErr(t, "recipient forwards", err, app.ErrInvalid)
	_, err = a.svc.Forward(ctx, ev.ID, []string{"bob"})
	wantErr(t, "sender forwards", err, app.ErrInvalid)
	_, _, err = a.svc.ViewEphemeral(ctx, ev.ID)
	wantErr(t, "sender views", err, app.ErrInvalid)
}

func TestEphemeralReplay(t *testing.T) {
	ctx := context.Background()
	a, b, conv := pair(t)
	fetcherFor(b, a)
	data := photo(t, 500)
	ev := sendPhoto(t, a, conv, data, app.ModeAllowReplay)
	deliver(t, a, b, conv)
	for i := range 2 {
		// ViewEphemeral fetches by itself while it is waiting.
		if got := view(t, b, ev.ID); !bytes.Equal(got, data) {
			t.Fatalf("view %d: bytes differ", i+1)
		}
		if i == 0 {
			state(t, b, ev.ID, app.EphemeralReady)
		}
	}
	_, _, err := b.svc.ViewEphemeral(ctx, ev.ID)
	wantErr(t, "third view", err, app.ErrTooLate)
	// One "opened" only, however many views.
	deliver(t, b, a, conv)
	if by, _ := a.svc.OpenedBy(ctx, ev.ID); len(by) != 1 {
		t.Fatalf("opened by after two views: got %d, want 1", len(by))
	}
	vv, _ := b.svc.Versions(ctx, conv)
	if vv[b.key] != 1 {
		t.Fatalf("recipient's events: got %d, want 1 opened event", vv[b.key])
	}
}

func TestEphemeralExpiresWithTheProcess(t *testing.T) {
	ctx := context.Background()
	a, b, conv := pair(t)
	fetcherFor(b, a)
	data := photo(t, 200)
	ev := sendPhoto(t, a, conv, data, app.ModeViewOnce)
	deliver(t, a, b, conv)
	if err := b.svc.FetchEphemeral(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	// The process ends: Run zeroes and forgets everything.
	for _, d := range []*device{a, b} {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- d.svc.Run(rctx) }()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	state(t, b, ev.ID, app.EphemeralExpired)
	state(t, a, ev.ID, app.EphemeralExpired)
	_, _, err := b.svc.ViewEphemeral(ctx, ev.ID)
	wantErr(t, "view after restart", err, app.ErrTooLate)
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("view after restart: got %q, want it to say expired", err)
	}
}

func TestEphemeralSenderForgetsBeforeFetch(t *testing.T) {
	ctx := context.Background()
	a, b, conv := pair(t)
	ev := sendPhoto(t, a, conv, photo(t, 100), app.ModeViewOnce)
	deliver(t, a, b, conv)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- a.svc.Run(rctx) }()
	cancel()
	<-done
	fetcherFor(b, a)
	err := b.svc.FetchEphemeral(ctx, ev.ID)
	wantErr(t, "fetch from a restarted sender", err, app.ErrTooLate)
	state(t, b, ev.ID, app.EphemeralExpired)
}

func TestEphemeralTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Run's tick")
	}
	ctx := context.Background()
	a, b, conv := pair(t)
	ev := sendPhoto(t, a, conv, photo(t, 100), app.ModeViewOnce)
	deliver(t, a, b, conv)
	a.now = a.now.Add(app.EphemeralTTL + time.Minute)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.svc.Run(rctx)
	deadline := time.Now().Add(5 * time.Second)
	for a.svc.EphemeralState(ev.ID) != app.EphemeralExpired {
		if time.Now().After(deadline) {
			t.Fatalf("sender's state after the TTL: got %q, want expired", a.svc.EphemeralState(ev.ID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := a.svc.SealedEphemeral(ev.ID, b.key); !errors.Is(err, app.ErrTooLate) {
		t.Fatalf("copy after the TTL: got %v, want ErrTooLate", err)
	}
}

func TestEphemeralRefusesWrongPeerAndTampering(t *testing.T) {
	ctx := context.Background()
	a, b, conv := pair(t)
	c := newDevice(t, "cleo")
	befriend(t, a, c)
	data := photo(t, 1000)
	ev := sendPhoto(t, a, conv, data, app.ModeViewOnce)
	deliver(t, a, b, conv)
	if _, err := a.svc.SealedEphemeral(ev.ID, c.key); !errors.Is(err, app.ErrNotMember) {
		t.Fatalf("copy asked by someone else: got %v, want ErrNotMember", err)
	}
	sealed, err := a.svc.SealedEphemeral(ev.ID, b.key)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 1
	if err := b.svc.StoreEphemeral(ctx, ev.ID, a.key, bad); !errors.Is(err, app.ErrBadEvent) {
		t.Fatalf("tampered copy: got %v, want ErrBadEvent", err)
	}
	if err := b.svc.StoreEphemeral(ctx, ev.ID, c.key, sealed); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("copy claimed from another sender: got %v, want ErrInvalid", err)
	}
	// A well-sealed copy of other bytes does not match the signed hash.
	other := sendPhoto(t, a, conv, photo(t, 1000), app.ModeViewOnce)
	deliver(t, a, b, conv)
	wrong, err := a.svc.SealedEphemeral(other.ID, b.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc.StoreEphemeral(ctx, ev.ID, a.key, wrong); !errors.Is(err, app.ErrBadEvent) {
		t.Fatalf("copy of other media: got %v, want ErrBadEvent", err)
	}
	state(t, b, ev.ID, app.EphemeralWaiting)
	if err := b.svc.StoreEphemeral(ctx, ev.ID, a.key, sealed); err != nil {
		t.Fatalf("the right copy after the bad ones: %v", err)
	}
	if got := view(t, b, ev.ID); !bytes.Equal(got, data) {
		t.Fatal("viewed bytes differ")
	}
}

func TestEphemeralRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	a, _, conv := pair(t)
	for name, tc := range map[string]struct {
		data []byte
		m    *pb.Media
		want error
	}{
		"keep mode":   {[]byte("x"), &pb.Media{Mode: app.ModeKeep}, app.ErrInvalid},
		"no metadata": {[]byte("x"), nil, app.ErrInvalid},
		"empty":       {nil, &pb.Media{Mode: app.ModeViewOnce}, app.ErrInvalid},
		"too large":   {make([]byte, app.MaxEphemeralBytes+1), &pb.Media{Mode: app.ModeViewOnce}, app.ErrTooLarge},
	} {
		_, err := a.svc.SendEphemeral(ctx, conv, tc.data, tc.m)
		wantErr(t, name, err, tc.want)
	}
	// A group member with no known box key (added by another admin, no
	// profile seen yet): a plain error, nothing sent.
	b := newDevice(t, "bea")
	zed := newDevice(t, "zed")
	befriend(t, a, b)
	befriend(t, b, zed)
	g, err := a.svc.CreateGroup(ctx, "G", []app.PeerKey{b.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.PromoteAdmin(ctx, g, b.key); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, g)
	if _, err := b.svc.AddMembers(ctx, g, []app.PeerKey{zed.key}); err != nil {
		t.Fatal(err)
	}
	deliver(t, b, a, g)
	before, _ := a.svc.Versions(ctx, g)
	_, err = a.svc.SendEphemeral(ctx, g, []byte("x"), &pb.Media{Mode: app.ModeViewOnce})
	wantErr(t, "member without a box key", err, app.ErrInvalid)
	after, _ := a.svc.Versions(ctx, g)
	if after[a.key] != before[a.key] {
		t.Fatal("an event was appended although sending failed")
	}
}

func TestEphemeralGroupOpenedPerMember(t *testing.T) {
	ctx := context.Background()
	a, b, c := newDevice(t, "ada"), newDevice(t, "bob"), newDevice(t, "cleo")
	befriend(t, a, b)
	befriend(t, a, c)
	befriend(t, b, c)
	g, err := a.svc.CreateGroup(ctx, "Trio", []app.PeerKey{b.key, c.key}, true)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, g)
	deliver(t, a, c, g)
	data := photo(t, 2000)
	ev := sendPhoto(t, a, g, data, app.ModeViewOnce)
	deliver(t, a, b, g)
	deliver(t, a, c, g)
	fetcherFor(b, a)
	fetcherFor(c, a)
	if got := view(t, b, ev.ID); !bytes.Equal(got, data) {
		t.Fatal("bob's bytes differ")
	}
	deliver(t, b, a, g)
	state(t, a, ev.ID, app.EphemeralWaiting) // cleo has not opened it
	if by, _ := a.svc.OpenedBy(ctx, ev.ID); len(by) != 1 || by[0] != b.key {
		t.Fatalf("opened by after bob: got %v, want [bob]", by)
	}
	if got := view(t, c, ev.ID); !bytes.Equal(got, data) {
		t.Fatal("cleo's bytes differ")
	}
	deliver(t, c, a, g)
	by, _ := a.svc.OpenedBy(ctx, ev.ID)
	if len(by) != 2 || !slices.Contains(by, b.key) || !slices.Contains(by, c.key) {
		t.Fatalf("opened by: got %v, want bob and cleo", by)
	}
	state(t, a, ev.ID, app.EphemeralViewed)
}
