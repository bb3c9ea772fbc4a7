package app

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"kite/app/pb"
	"kite/crypto/seal"
)

// Kind is what an event does. The numbers are part of the signed header:
// never renumber.
type Kind uint32

const (
	KindText         Kind = 1
	KindReaction     Kind = 2
	KindEdit         Kind = 3
	KindUnsend       Kind = 4
	KindGroupCreate  Kind = 5
	KindRename       Kind = 6
	KindAdd          Kind = 7
	KindRemove       Kind = 8
	KindLeave        Kind = 9
	KindPromote      Kind = 10
	KindTheme        Kind = 11
	KindShare        Kind = 12
	KindPoll         Kind = 13
	KindVote         Kind = 14
	KindDisappearing Kind = 15
	KindMedia        Kind = 16
	KindOpened       Kind = 17
)

var kindNames = map[Kind]string{
	KindText: "text", KindReaction: "reaction", KindEdit: "edit", KindUnsend: "unsend",
	KindGroupCreate: "group_create", KindRename: "rename", KindAdd: "add", KindRemove: "remove",
	KindLeave: "leave", KindPromote: "promote", KindTheme: "theme", KindShare: "share",
	KindPoll: "poll", KindVote: "vote", KindDisappearing: "disappearing", KindMedia: "media",
	KindOpened: "opened",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// Valid reports whether k is a kind this version knows.
func (k Kind) Valid() bool { _, ok := kindNames[k]; return ok }

// IsGroupOp reports whether k changes a group's membership or settings and
// is therefore validated against the membership at its point in the log.
func (k Kind) IsGroupOp() bool {
	switch k {
	case KindGroupCreate, KindRename, KindAdd, KindRemove, KindLeave, KindPromote, KindTheme, KindDisappearing:
		return true
	}
	return false
}

// Limits on what an event may carry.
const (
	MaxEventBytes  = 1 << 20 // one wire frame
	MaxHeaderBytes = 512
)

// Event is one signed, immutable entry in an author's log for a
// conversation (DESIGN.md §3). Header holds the exact signed bytes; the
// other header fields are decoded from it. Body is nil once purged.
type Event struct {
	ID       EventID
	Conv     ConvID
	Author   PeerKey
	Seq      uint64
	Prev     EventID
	Lamport  uint64
	Time     time.Time
	Kind     Kind
	BodyHash [32]byte

	Header []byte
	Sig    []byte
	Body   []byte
}

// Draft is what an author wants to append; the store fills in the position.
type Draft struct {
	Conv ConvID
	Kind Kind
	Body *pb.Body
	Time time.Time
}

// Position is where an event sits in its author's log and in display order.
type Position struct {
	Seq     uint64
	Prev    EventID
	Lamport uint64
}

// SignEvent builds and signs an event from a body at a position.
func SignEvent(priv ed25519.PrivateKey, conv ConvID, kind Kind, body []byte, pos Position, at time.Time) (Event, error) {
	if pos.Seq == 0 || pos.Lamport == 0 {
		return Event{}, fmt.Errorf("app: sign event: seq and lamport start at 1")
	}
	if (pos.Seq == 1) != pos.Prev.IsZero() {
		return Event{}, fmt.Errorf("app: sign event: prev must be empty exactly at seq 1")
	}
	author := PeerKeyOf(priv.Public().(ed25519.PublicKey))
	bh := seal.BodyHash(body)
	h := &pb.Header{
		Conv:     conv[:],
		Author:   author[:],
		Seq:      pos.Seq,
		Lamport:  pos.Lamport,
		Time:     at.UnixMilli(),
		Kind:     uint32(kind),
		BodyHash: bh[:],
	}
	if pos.Seq > 1 {
		h.Prev = pos.Prev[:]
	}
	hb, err := proto.MarshalOptions{Deterministic: true}.Marshal(h)
	if err != nil {
		return Event{}, fmt.Errorf("app: sign event: %w", err)
	}
	ev := Event{
		ID: seal.EventID(hb), Conv: conv, Author: author, Seq: pos.Seq, Prev: pos.Prev,
		Lamport: pos.Lamport, Time: time.UnixMilli(h.Time), Kind: kind, BodyHash: bh,
		Header: hb, Sig: seal.SignEvent(priv, hb), Body: body,
	}
	return ev, nil
}

// ParseHeader decodes and checks signed header bytes and a signature:
// canonical encoding, field sizes, a known kind, and the author's
// signature. The returned event has no body.
func ParseHeader(hb, sig []byte) (Event, error) {
	ev, err := parseHeader(hb, sig)
	if err != nil {
		return Event{}, err
	}
	if err := seal.VerifyEvent(ed25519.PublicKey(ev.Author[:]), hb, sig); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return ev, nil
}

// parseHeader is ParseHeader without the signature check.
func parseHeader(hb, sig []byte) (Event, error) {
	if len(hb) == 0 || len(hb) > MaxHeaderBytes {
		return Event{}, fmt.Errorf("%w: header of %d bytes", ErrBadEvent, len(hb))
	}
	var h pb.Header
	if err := proto.Unmarshal(hb, &h); err != nil {
		return Event{}, fmt.Errorf("%w: header: %v", ErrBadEvent, err)
	}
	if len(h.ProtoReflect().GetUnknown()) != 0 {
		return Event{}, fmt.Errorf("%w: header has unknown fields", ErrBadEvent)
	}
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(&h)
	if err != nil || !bytes.Equal(again, hb) {
		return Event{}, fmt.Errorf("%w: header is not canonical", ErrBadEvent)
	}
	conv, ok1 := idOf(h.Conv)
	author, ok2 := idOf(h.Author)
	bh, ok3 := idOf(h.BodyHash)
	if !ok1 || !ok2 || !ok3 {
		return Event{}, fmt.Errorf("%w: header field of the wrong size", ErrBadEvent)
	}
	var prev EventID
	switch {
	case h.Seq == 0 || h.Lamport == 0:
		return Event{}, fmt.Errorf("%w: seq and lamport start at 1", ErrBadEvent)
	case h.Seq == 1 && len(h.Prev) != 0:
		return Event{}, fmt.Errorf("%w: first event with a prev", ErrBadEvent)
	case h.Seq > 1:
		p, ok := idOf(h.Prev)
		if !ok {
			return Event{}, fmt.Errorf("%w: prev of the wrong size", ErrBadEvent)
		}
		prev = p
	}
	if !Kind(h.Kind).Valid() {
		return Event{}, fmt.Errorf("%w: unknown kind %d", ErrBadEvent, h.Kind)
	}
	return Event{
		ID: seal.EventID(hb), Conv: conv, Author: author, Seq: h.Seq, Prev: prev,
		Lamport: h.Lamport, Time: time.UnixMilli(h.Time), Kind: Kind(h.Kind), BodyHash: bh,
		Header: hb, Sig: append([]byte(nil), sig...),
	}, nil
}

// DecodeEvent decodes an event as sent or stored and verifies it: header,
// signature, and body hash when a body is present.
func DecodeEvent(b []byte) (Event, error) {
	ev, err := decodeUnsigned(b)
	if err != nil {
		return Event{}, err
	}
	if err := seal.VerifyEvent(ed25519.PublicKey(ev.Author[:]), ev.Header, ev.Sig); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return ev, nil
}

// DecodeEvents is DecodeEvent for a received batch: errs[i] is what
// DecodeEvent(raw[i]) would say. The signatures are checked as batches,
// one per core.
func DecodeEvents(raw [][]byte) (evs []Event, errs []error) {
	evs = make([]Event, len(raw))
	errs = make([]error, len(raw))
	part := func(lo, hi int) {
		var sigs []seal.SignedHeader
		var at []int
		for i := lo; i < hi; i++ {
			if evs[i], errs[i] = decodeUnsigned(raw[i]); errs[i] == nil {
				sigs = append(sigs, seal.SignedHeader{Pub: ed25519.PublicKey(evs[i].Author[:]), Header: evs[i].Header, Sig: evs[i].Sig})
				at = append(at, i)
			}
		}
		for j, err := range seal.VerifyEvents(sigs) {
			if err != nil {
				evs[at[j]], errs[at[j]] = Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
			}
		}
	}
	parts := min(runtime.GOMAXPROCS(0), (len(raw)+63)/64) // a batch pays off from a few dozen
	if parts <= 1 {
		part(0, len(raw)) // a live event: no goroutine hop on its way
		return evs, errs
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part(p*len(raw)/parts, (p+1)*len(raw)/parts)
		}()
	}
	wg.Wait()
	return evs, errs
}

// decodeUnsigned is DecodeEvent but for the signature check.
func decodeUnsigned(b []byte) (Event, error) {
	if len(b) > MaxEventBytes {
		return Event{}, fmt.Errorf("%w: event of %d bytes", ErrTooLarge, len(b))
	}
	var pe pb.Event
	if err := proto.Unmarshal(b, &pe); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	ev, err := parseHeader(pe.Header, pe.Sig)
	if err != nil {
		return Event{}, err
	}
	return withBody(ev, pe.Body)
}

// FromPB verifies a decoded wire event.
func FromPB(pe *pb.Event) (Event, error) {
	ev, err := ParseHeader(pe.Header, pe.Sig)
	if err != nil {
		return Event{}, err
	}
	return withBody(ev, pe.Body)
}

// withBody attaches a body to its header after checking its hash.
func withBody(ev Event, body []byte) (Event, error) {
	if len(body) > 0 {
		if seal.BodyHash(body) != ev.BodyHash {
			return Event{}, fmt.Errorf("%w: body does not match its hash", ErrBadEvent)
		}
		ev.Body = append([]byte(nil), body...)
	}
	return ev, nil
}

// PB is the wire form of the event.
func (e Event) PB() *pb.Event {
	return &pb.Event{Header: e.Header, Sig: e.Sig, Body: e.Body}
}

// Marshal encodes the event for the wire or the store.
func (e Event) Marshal() []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e.PB())
	return b
}

// DecodeBody decodes a body and checks that it matches kind. A sealed (E2E)
// body is returned as it is; opening it is the caller's job.
func DecodeBody(kind Kind, b []byte) (*pb.Body, error) {
	var body pb.Body
	if err := proto.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrBadEvent, err)
	}
	if _, ok := body.Content.(*pb.Body_Sealed); ok {
		return &body, nil
	}
	if got := BodyKind(&body); got != kind {
		return nil, fmt.Errorf("%w: body is %v, header says %v", ErrBadEvent, got, kind)
	}
	return &body, nil
}

// EncodeBody encodes a body deterministically.
func EncodeBody(b *pb.Body) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(b)
}

// BodyKind is the kind a body's content stands for (0 for none or sealed).
func BodyKind(b *pb.Body) Kind {
	switch b.Content.(type) {
	case *pb.Body_Text:
		return KindText
	case *pb.Body_Reaction:
		return KindReaction
	case *pb.Body_Edit:
		return KindEdit
	case *pb.Body_Unsend:
		return KindUnsend
	case *pb.Body_GroupCreate:
		return KindGroupCreate
	case *pb.Body_Rename:
		return KindRename
	case *pb.Body_Add:
		return KindAdd
	case *pb.Body_Remove:
		return KindRemove
	case *pb.Body_Leave:
		return KindLeave
	case *pb.Body_Promote:
		return KindPromote
	case *pb.Body_Theme:
		return KindTheme
	case *pb.Body_Share:
		return KindShare
	case *pb.Body_Poll:
		return KindPoll
	case *pb.Body_Vote:
		return KindVote
	case *pb.Body_Disappearing:
		return KindDisappearing
	case *pb.Body_Media:
		return KindMedia
	case *pb.Body_Opened:
		return KindOpened
	}
	return 0
}
