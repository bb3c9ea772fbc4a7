package app_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"kite/app"
	"kite/app/pb"
	"kite/app/store"
	"kite/crypto/keys"
)

// device is one Kite device in a test: identity, real store, service.
type device struct {
	t   *testing.T
	id  *keys.Identity
	svc *app.Service
	key app.PeerKey
	now time.Time
}

func newDevice(t *testing.T, handle string) *device {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "kite.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	d := &device{t: t, id: id, key: app.PeerKeyOf(id.SignPub), now: time.Now()}
	d.svc = app.New(app.Params{Store: st, Identity: id, Now: func() time.Time { return d.now }})
	if _, err := d.svc.SetProfile(context.Background(), handle, handle, ""); err != nil {
		t.Fatalf("set profile: %v", err)
	}
	return d
}

func (d *device) code() string { return d.id.ContactCode(handle(d), nil).String() }

func handle(d *device) string {
	p, _ := d.svc.Profile(context.Background())
	return p.Handle
}

// befriend makes a and b contacts of each other.
func befriend(t *testing.T, a, b *device) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.svc.AddContact(ctx, b.code()); err != nil {
		t.Fatalf("add contact: %v", err)
	}
	if _, err := b.svc.AddContact(ctx, a.code()); err != nil {
		t.Fatalf("add contact: %v", err)
	}
}

// deliver copies every event of from's log in conv that to lacks, as the
// network would, and fails on any refusal.
func deliver(t *testing.T, from, to *device, conv app.ConvID) {
	t.Helper()
	if errs := deliverAll(t, from, to, conv); len(errs) > 0 {
		t.Fatalf("deliver: %v", errs[0])
	}
}

func deliverAll(t *testing.T, from, to *device, conv app.ConvID) []error {
	t.Helper()
	ctx := context.Background()
	have, err := to.svc.Versions(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	vv, err := from.svc.Versions(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var evs []app.Event
	for author := range vv {
		more, err := from.svc.EventsAfter(ctx, conv, author, have[author], 10000)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, more...)
	}
	// Oldest first, as the network sends them.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Lamport < evs[j-1].Lamport; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	var wire []app.Event
	for _, ev := range evs {
		got, err := app.DecodeEvent(ev.Marshal())
		if err != nil {
			t.Fatalf("decode own event: %v", err)
		}
		wire = append(wire, got)
	}
	outs, err := to.svc.Ingest(ctx, wire, app.PathLAN, from.key)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, o := range outs {
		if o.Err != nil && !errors.Is(o.Err, app.ErrDuplicate) {
			errs = append(errs, o.Err)
		}
	}
	return errs
}

// textEvent signs a text event by priv at pos, as a remote peer would.
func textEvent(t *testing.T, priv ed25519.PrivateKey, conv app.ConvID, text string, pos app.Position) app.Event {
	t.Helper()
	body, err := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: text}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := app.SignEvent(priv, conv, app.KindText, body, pos, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func mustMessages(t *testing.T, d *device, conv app.ConvID) []app.Message {
	t.Helper()
	ms, err := d.svc.Messages(context.Background(), conv, app.Cursor{}, 500)
	if err != nil {
		t.Fatalf("messages: %v", err)
	}
	return ms
}

// wantErr checks err matches sentinel and is a UserError (plain words).
func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got error %v, want %v", what, err, sentinel)
	}
	var ue *app.UserError
	if !errors.As(err, &ue) {
		t.Errorf("%s: error %q is not in plain words (not a UserError)", what, err)
	}
}
