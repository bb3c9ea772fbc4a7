package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"kite/app"
	"kite/app/pb"
	"kite/crypto/seal"
)

// storedBodies is every body in d's log for conv, as it would forward them.
func storedBodies(t *testing.T, d *device, conv app.ConvID) [][]byte {
	t.Helper()
	ctx := context.Background()
	vv, err := d.svc.Versions(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for author := range vv {
		evs, err := d.svc.EventsAfter(ctx, conv, author, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			out = append(out, ev.Marshal())
		}
	}
	return out
}

func holds(blob []byte, marker string) bool {
	m := []byte(marker)
	return bytes.Contains(blob, m) ||
		bytes.Contains(blob, []byte(hex.EncodeToString(m))) ||
		bytes.Contains(blob, []byte(base64.StdEncoding.EncodeToString(m)))
}

func e2eGroup(t *testing.T) (a, b, c *device, g app.ConvID) {
	t.Helper()
	ctx := context.Background()
	a, b, c = newDevice(t, "ada"), newDevice(t, "bob"), newDevice(t, "cleo")
	befriend(t, a, b)
	befriend(t, a, c)
	befriend(t, b, c)
	g, err := a.svc.CreateGroup(ctx, "Secret club", []app.PeerKey{b.key, c.key}, true)
	if err != nil {
		t.Fatalf("create e2e group: %v", err)
	}
	deliver(t, a, b, g)
	deliver(t, a, c, g)
	return a, b, c, g
}

func TestE2EGroupStoresOnlyCiphertext(t *testing.T) {
	ctx := context.Background()
	a, b, c, g := e2eGroup(t)
	const marker = "PLAINTEXT-MARKER-91c2"
	m, err := b.svc.SendText(ctx, g, marker, app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.React(ctx, app.EventID{}, "x"); err == nil {
		t.Fatal("react to zero ID: got nil error")
	}
	deliver(t, b, a, g)
	deliver(t, a, c, g) // c gets bob's message relayed through ada
	for _, d := range []*device{a, b, c} {
		for _, blob := range storedBodies(t, d, g) {
			if holds(blob, marker) {
				t.Fatalf("the stored log at %s holds the plaintext marker", handle(d))
			}
		}
		got, err := d.svc.Message(ctx, m.ID)
		if err != nil || got.Text != marker {
			t.Fatalf("derived text at %s: got %q (%v), want the marker", handle(d), got.Text, err)
		}
	}
	if res, _ := c.svc.Search(ctx, "PLAINTEXT", g, 5); len(res) != 1 {
		t.Fatalf("search at cleo: got %d, want 1", len(res))
	}
}

func TestE2ERemovedMemberCannotRead(t *testing.T) {
	ctx := context.Background()
	a, b, c, g := e2eGroup(t)
	if _, err := a.svc.RemoveMembers(ctx, g, []app.PeerKey{c.key}); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, g)
	m, err := a.svc.SendText(ctx, g, "after cleo left", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, g)
	deliver(t, a, c, g) // cleo still receives the log, sealed
	if got, _ := b.svc.Message(ctx, m.ID); got.Text != "after cleo left" {
		t.Fatalf("bob: got %q, want the text", got.Text)
	}
	got, err := c.svc.Message(ctx, m.ID)
	if err == nil && got.Text != "" {
		t.Fatalf("removed member reads %q; want nothing", got.Text)
	}
	ev, _ := a.svc.Event(ctx, m.ID)
	body, _ := app.DecodeBody(ev.Kind, ev.Body)
	var env pb.Envelope
	if err := proto.Unmarshal(body.GetSealed(), &env); err != nil {
		t.Fatal(err)
	}
	for _, k := range env.Keys {
		if bytes.Equal(k.Recipient, c.key[:]) {
			t.Fatal("the envelope after removal is sealed to the removed member")
		}
	}
}

// forge signs an event by d in conv at d's next position with raw body.
func forge(t *testing.T, d *device, conv app.ConvID, kind app.Kind, raw []byte) app.Event {
	t.Helper()
	ctx := context.Background()
	vv, _ := d.svc.Versions(ctx, conv)
	seq := vv[d.key] + 1
	var prev app.EventID
	if seq > 1 {
		evs, _ := d.svc.EventsAfter(ctx, conv, d.key, seq-2, 1)
		prev = evs[0].ID
	}
	ev, err := app.SignEvent(d.id.SignPriv, conv, kind, raw, app.Position{Seq: seq, Prev: prev, Lamport: 1000 + seq}, d.now)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func sealedBody(t *testing.T, env *pb.Envelope) []byte {
	t.Helper()
	eb, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := app.EncodeBody(&pb.Body{Content: &pb.Body_Sealed{Sealed: eb}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestE2ERefusals(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, err := a.svc.Resolve(ctx, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	good, err := a.svc.SendText(ctx, conv, "first", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	body, _ := app.DecodeBody(good.Kind, good.Body)
	var env pb.Envelope
	proto.Unmarshal(body.GetSealed(), &env)

	shared := seal.Precompute((*[32]byte)(b.id.BoxPub), a.id.BoxPriv)
	sealFor := func(conv app.ConvID, seq uint64, key *[32]byte) []byte {
		plain, _ := proto.Marshal(&pb.Sealed{Conv: conv[:], Author: a.key[:], Seq: seq, Body: &pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: "x"}}}})
		ct, err := seal.BoxShared(plain, key)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	other := newDevice(t, "xena")
	wrong := seal.Precompute((*[32]byte)(other.id.BoxPub), a.id.BoxPriv)
	tampered := append([]byte(nil), env.Ciphertext...)
	tampered[len(tampered)-1] ^= 1
	plainConv := app.DirectConvID(a.key, b.key, false)

	tests := []struct {
		name string
		raw  []byte
	}{
		{"tampered ciphertext", sealedBody(t, &pb.Envelope{Ciphertext: tampered})},
		{"sealed to the wrong recipient", sealedBody(t, &pb.Envelope{Ciphertext: sealFor(conv, 2, wrong)})},
		{"replayed from another conversation", sealedBody(t, &pb.Envelope{Ciphertext: sealFor(plainConv, 2, shared)})},
		{"replayed at another position", sealedBody(t, &pb.Envelope{Ciphertext: sealFor(conv, 1, shared)})},
		{"garbage envelope", sealedBody(t, &pb.Envelope{Ciphertext: []byte("nope")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := forge(t, a, conv, app.KindText, tt.raw)
			outs, err := b.svc.Ingest(ctx, []app.Event{ev}, app.PathLAN, a.key)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(outs[0].Err, app.ErrBadEvent) {
				t.Fatalf("got %v, want ErrBadEvent", outs[0].Err)
			}
			if _, err := b.svc.Event(ctx, ev.ID); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("refused event is stored (%v)", err)
			}
		})
	}
	// A plaintext body in an E2E conversation is a downgrade: refused.
	plainBody, _ := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: "downgrade"}}})
	ev := forge(t, a, conv, app.KindText, plainBody)
	outs, _ := b.svc.Ingest(ctx, []app.Event{ev}, app.PathLAN, a.key)
	if !errors.Is(outs[0].Err, app.ErrBadEvent) {
		t.Fatalf("plaintext in an e2e chat: got %v, want ErrBadEvent", outs[0].Err)
	}
	if ms := mustMessages(t, b, conv); len(ms) != 1 {
		t.Fatalf("bob has %d messages, want only the first", len(ms))
	}
}

// A group's E2E flag is remembered after its first event (Service.groups):
// plaintext stays refused in every batch after that, and a plain group
// still takes plaintext.
func TestE2EGroupDowngradeRefusedEveryTime(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	sealed, err := a.svc.CreateGroup(ctx, "sealed", []app.PeerKey{b.key}, true)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := a.svc.CreateGroup(ctx, "plain", []app.PeerKey{b.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, sealed)
	deliver(t, a, b, plain)
	text, _ := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: "downgrade"}}})
	for i := range 3 {
		ev := forge(t, a, sealed, app.KindText, text)
		outs, err := b.svc.Ingest(ctx, []app.Event{ev}, app.PathLAN, a.key)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(outs[0].Err, app.ErrBadEvent) {
			t.Fatalf("batch %d: plaintext in an e2e group: got %v, want ErrBadEvent", i, outs[0].Err)
		}
		ok, err := a.svc.SendText(ctx, plain, fmt.Sprintf("plain %d", i), app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		outs, err = b.svc.Ingest(ctx, []app.Event{ok}, app.PathLAN, a.key)
		if err != nil || outs[0].Err != nil {
			t.Fatalf("batch %d: plaintext in a plain group: got %v, %v; want it stored", i, err, outs[0].Err)
		}
	}
}

// FuzzOpenEnvelope feeds arbitrary envelopes, correctly signed by a
// contact, into an E2E conversation: never a panic, never stored unless
// it opens.
func FuzzOpenEnvelope(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789"), []byte("k"))
	f.Fuzz(func(t *testing.T, ct, key []byte) {
		ctx := context.Background()
		a, b := newDevice(t, "ada"), newDevice(t, "bob")
		befriend(t, a, b)
		conv, err := a.svc.Resolve(ctx, "bob", true)
		if err != nil {
			t.Fatal(err)
		}
		env := &pb.Envelope{Ciphertext: ct}
		if len(key) > 0 {
			env.Keys = []*pb.RecipientKey{{Recipient: b.key[:], Key: key}}
		}
		ev := forge(t, a, conv, app.KindText, sealedBody(t, env))
		outs, err := b.svc.Ingest(ctx, []app.Event{ev}, app.PathLAN, a.key)
		if err != nil {
			t.Fatal(err)
		}
		if outs[0].Err == nil {
			t.Fatalf("a random envelope was accepted")
		}
	})
}
