package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"kite/app"
	"kite/app/pb"
)

var ctx = context.Background()

// t0 is the wall clock of the first test event.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "kite.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// peer signs events and tracks its own chain per conversation.
type peer struct {
	priv  ed25519.PrivateKey
	key   app.PeerKey
	chain map[app.ConvID]app.Position
}

// peers finds the test peer of an author, to undo its chain when an
// event is refused.
var peers = map[app.PeerKey]*peer{}

func newPeer(n int) *peer {
	var s [32]byte
	for i := range s {
		s[i] = 7
	}
	s[0], s[1] = byte(n), byte(n>>8)
	priv := ed25519.NewKeyFromSeed(s[:])
	p := &peer{priv: priv, key: app.PeerKeyOf(priv.Public().(ed25519.PublicKey)), chain: map[app.ConvID]app.Position{}}
	peers[p.key] = p
	return p
}

// ev makes p's next event in conv at lamport.
func (p *peer) ev(t testing.TB, conv app.ConvID, lamport uint64, body *pb.Body) app.Incoming {
	t.Helper()
	b, err := app.EncodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	last := p.chain[conv]
	pos := app.Position{Seq: last.Seq + 1, Prev: last.Prev, Lamport: lamport}
	ev, err := app.SignEvent(p.priv, conv, app.BodyKind(body), b, pos, t0.Add(time.Duration(lamport)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p.chain[conv] = app.Position{Seq: pos.Seq, Prev: ev.ID}
	return app.Incoming{Event: ev, Body: body, Path: app.PathLAN}
}

// at makes an event at an explicit seq/prev without touching the chain.
func (p *peer) at(t testing.TB, conv app.ConvID, pos app.Position, body *pb.Body) app.Incoming {
	t.Helper()
	b, err := app.EncodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := app.SignEvent(p.priv, conv, app.BodyKind(body), b, pos, t0.Add(time.Duration(pos.Lamport)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return app.Incoming{Event: ev, Body: body, Path: app.PathLAN}
}

// appendBody appends one of self's events through Append.
func appendBody(t testing.TB, s *Store, p *peer, conv app.ConvID, body *pb.Body) (app.Event, error) {
	t.Helper()
	kind := app.BodyKind(body)
	b, err := app.EncodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.Append(ctx, p.key, app.Draft{Conv: conv, Kind: kind, Body: body, Time: t0},
		func(pos app.Position) (app.Event, error) {
			return app.SignEvent(p.priv, conv, kind, b, pos, t0.Add(time.Duration(pos.Lamport)*time.Second))
		})
	if err == nil {
		p.chain[conv] = app.Position{Seq: ev.Seq, Prev: ev.ID}
	}
	return ev, err
}

func text(s string) *pb.Body { return &pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: s}}} }
func react(target app.EventID, emoji string) *pb.Body {
	return &pb.Body{Content: &pb.Body_Reaction{Reaction: &pb.Reaction{Target: target[:], Emoji: emoji}}}
}
func edit(target app.EventID, s string) *pb.Body {
	return &pb.Body{Content: &pb.Body_Edit{Edit: &pb.Edit{Target: target[:], Text: s}}}
}
func unsend(target app.EventID) *pb.Body {
	return &pb.Body{Content: &pb.Body_Unsend{Unsend: &pb.Target{Target: target[:]}}}
}
func keys(ps ...*peer) [][]byte {
	var out [][]byte
	for _, p := range ps {
		out = append(out, p.key[:])
	}
	return out
}
func create(name string, members ...*peer) *pb.Body {
	return &pb.Body{Content: &pb.Body_GroupCreate{GroupCreate: &pb.GroupCreate{Name: name, Members: keys(members...)}}}
}
func add(ps ...*peer) *pb.Body {
	return &pb.Body{Content: &pb.Body_Add{Add: &pb.Members{Members: keys(ps...)}}}
}
func remove(ps ...*peer) *pb.Body {
	return &pb.Body{Content: &pb.Body_Remove{Remove: &pb.Members{Members: keys(ps...)}}}
}
func promote(ps ...*peer) *pb.Body {
	return &pb.Body{Content: &pb.Body_Promote{Promote: &pb.Members{Members: keys(ps...)}}}
}
func leave() *pb.Body { return &pb.Body{Content: &pb.Body_Leave{Leave: &pb.Leave{}}} }
func rename(n string) *pb.Body {
	return &pb.Body{Content: &pb.Body_Rename{Rename: &pb.Rename{Name: n}}}
}
func poll(q string, opts ...string) *pb.Body {
	return &pb.Body{Content: &pb.Body_Poll{Poll: &pb.Poll{Question: q, Options: opts}}}
}
func vote(p app.EventID, opt int32) *pb.Body {
	return &pb.Body{Content: &pb.Body_Vote{Vote: &pb.Vote{Poll: p[:], Option: opt}}}
}
func disappear(secs int64) *pb.Body {
	return &pb.Body{Content: &pb.Body_Disappearing{Disappearing: &pb.Disappearing{Seconds: secs}}}
}
func media(mime, caption string) *pb.Body {
	return &pb.Body{Content: &pb.Body_Media{Media: &pb.Media{Hash: make([]byte, 32), Size: 10, Mime: mime,
		Name: "file.bin", Thumbnail: []byte{1, 2, 3}, Caption: caption}}}
}

func randConv() app.ConvID {
	var c app.ConvID
	rand.Read(c[:])
	return c
}

// ingest stores evs and returns their outcome errors.
func ingest(t testing.TB, s *Store, self *peer, evs ...app.Incoming) []error {
	t.Helper()
	out, err := s.Ingest(ctx, self.key, evs)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	errs := make([]error, len(out))
	for i, o := range out {
		if o.ID != evs[i].Event.ID {
			t.Fatalf("outcome %d: got ID %s, want %s", i, o.ID.Short(), evs[i].Event.ID.Short())
		}
		errs[i] = o.Err
		ev := evs[i].Event
		if p := peers[ev.Author]; o.Err != nil && !errors.Is(o.Err, app.ErrDuplicate) && !errors.Is(o.Err, app.ErrFork) &&
			p != nil && p.chain[ev.Conv].Prev == ev.ID {
			p.chain[ev.Conv] = app.Position{Seq: ev.Seq - 1, Prev: ev.Prev}
		}
	}
	return errs
}

// mustIngest stores evs and fails on any refusal.
func mustIngest(t testing.TB, s *Store, self *peer, evs ...app.Incoming) {
	t.Helper()
	for i, err := range ingest(t, s, self, evs...) {
		if err != nil {
			t.Fatalf("event %d (%v): %v", i, evs[i].Event.Kind, err)
		}
	}
}

func wantErr(t testing.TB, what string, got, want error) {
	t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func mustMessage(t testing.TB, s *Store, id app.EventID) app.Message {
	t.Helper()
	m, err := s.Message(ctx, id)
	if err != nil {
		t.Fatalf("Message: %v", err)
	}
	return m
}

// group makes a group created by admin with members, seen from self.
func group(t testing.TB, s *Store, self, admin *peer, members ...*peer) app.ConvID {
	t.Helper()
	conv := randConv()
	mustIngest(t, s, self, admin.ev(t, conv, 1, create("g", members...)))
	return conv
}
