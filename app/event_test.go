package app_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"kite/app"
	"kite/app/pb"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
}

func signedText(t testing.TB, priv ed25519.PrivateKey, text string, pos app.Position) app.Event {
	body, err := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: text}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := app.SignEvent(priv, app.ConvID{7}, app.KindText, body, pos, time.UnixMilli(1_700_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestEventRoundTrip(t *testing.T) {
	ev := signedText(t, testKey(1), "hello", app.Position{Seq: 1, Lamport: 1})
	got, err := app.DecodeEvent(ev.Marshal())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.ID != ev.ID || got.Author != ev.Author || got.Seq != 1 || got.Lamport != 1 || !bytes.Equal(got.Body, ev.Body) || !got.Time.Equal(ev.Time) {
		t.Fatalf("round trip: got %+v, want %+v", got, ev)
	}
	// Purged body: the header still verifies.
	purged := ev
	purged.Body = nil
	if _, err := app.DecodeEvent(purged.Marshal()); err != nil {
		t.Fatalf("purged event: %v", err)
	}
	// Deterministic: the same event encodes to the same bytes.
	if !bytes.Equal(ev.Marshal(), got.Marshal()) {
		t.Fatal("re-encoding changed the bytes")
	}
}

func TestEventRefusals(t *testing.T) {
	priv := testKey(1)
	ev := signedText(t, priv, "hello", app.Position{Seq: 2, Prev: app.EventID{9}, Lamport: 5})

	forged := ev
	forged.Sig = append([]byte(nil), ev.Sig...)
	forged.Sig[10] ^= 1

	// The same header re-signed by another key: the author in the header
	// no longer matches the signer.
	resigned := ev
	resigned.Sig = ed25519.Sign(testKey(2), ev.Header)

	bodySwap := ev
	bodySwap.Body = signedText(t, priv, "other", app.Position{Seq: 1, Lamport: 1}).Body

	// A header with an explicit zero field is not canonical.
	nonCanon := ev
	nonCanon.Header = protowire.AppendTag(append([]byte(nil), ev.Header...), 6, protowire.VarintType)
	nonCanon.Header = protowire.AppendVarint(nonCanon.Header, 0)

	unknown := ev
	unknown.Header = protowire.AppendTag(append([]byte(nil), ev.Header...), 99, protowire.VarintType)
	unknown.Header = protowire.AppendVarint(unknown.Header, 1)

	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"forged signature", forged.Marshal(), app.ErrBadSignature},
		{"re-signed by another key", resigned.Marshal(), app.ErrBadSignature},
		{"body does not match hash", bodySwap.Marshal(), app.ErrBadEvent},
		{"non-canonical header", nonCanon.Marshal(), app.ErrBadEvent},
		{"unknown header field", unknown.Marshal(), app.ErrBadEvent},
		{"garbage", []byte{0xff, 0xff, 0xff}, app.ErrBadEvent},
		{"empty", nil, app.ErrBadEvent},
		{"over 1 MiB", make([]byte, app.MaxEventBytes+1), app.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := app.DecodeEvent(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	// In a batch, each bad event is refused for the same reason, between
	// good ones, which still decode.
	var raw [][]byte
	var want []error
	for i := range 200 {
		tt := tests[i%len(tests)]
		good := signedText(t, testKey(byte(3+i%4)), "fine", app.Position{Seq: 1, Lamport: uint64(i + 1)})
		raw = append(raw, tt.raw, good.Marshal())
		want = append(want, tt.want, nil)
	}
	evs, errs := app.DecodeEvents(raw)
	for i := range raw {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil && errs[i] != nil) {
			t.Fatalf("batch entry %d: got %v, want %v", i, errs[i], want[i])
		}
		if want[i] == nil && (evs[i].Author.IsZero() || len(evs[i].Body) == 0) {
			t.Fatalf("batch entry %d: decoded %+v", i, evs[i])
		}
	}
}

func TestSignEventRefusesBadPositions(t *testing.T) {
	for _, pos := range []app.Position{{Seq: 0, Lamport: 1}, {Seq: 1, Lamport: 0}, {Seq: 2, Lamport: 2}, {Seq: 1, Prev: app.EventID{1}, Lamport: 1}} {
		if _, err := app.SignEvent(testKey(1), app.ConvID{1}, app.KindText, nil, pos, time.Now()); err == nil {
			t.Errorf("position %+v: got nil error", pos)
		}
	}
}

func TestDirectConvID(t *testing.T) {
	a, b := app.PeerKey{1}, app.PeerKey{2}
	if app.DirectConvID(a, b, false) != app.DirectConvID(b, a, false) {
		t.Fatal("1:1 ID depends on argument order")
	}
	if app.DirectConvID(a, b, false) == app.DirectConvID(a, b, true) {
		t.Fatal("the e2e 1:1 shares the regular 1:1's ID")
	}
}

// FuzzDecodeEvent: never panics; anything that decodes re-encodes to
// bytes that decode to the same event.
func FuzzDecodeEvent(f *testing.F) {
	ev := signedText(f, testKey(3), "seed", app.Position{Seq: 1, Lamport: 1})
	f.Add(ev.Marshal())
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := app.DecodeEvent(b)
		if err != nil {
			return
		}
		again, err := app.DecodeEvent(ev.Marshal())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.ID != ev.ID || !bytes.Equal(again.Body, ev.Body) || !bytes.Equal(again.Marshal(), ev.Marshal()) {
			t.Fatal("re-encoding changed the event")
		}
	})
}
