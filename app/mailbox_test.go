package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"kite/app"
	"kite/crypto/seal"
)

func TestSetMailbox(t *testing.T) {
	ctx := context.Background()
	o, box, ann := newDevice(t, "olga"), newDevice(t, "box"), newDevice(t, "ann")
	wantErr(t, "own device as mailbox", func() error { _, err := o.svc.SetMailbox(ctx, o.key); return err }(), app.ErrInvalid)
	wantErr(t, "unknown device as mailbox", func() error { _, err := o.svc.SetMailbox(ctx, box.key); return err }(), app.ErrNotFound)
	befriend(t, o, box)
	before, _ := o.svc.Profile(ctx)
	p, err := o.svc.SetMailbox(ctx, box.key)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mailbox == nil || p.Mailbox.Key != box.key || p.Version != before.Version+1 {
		t.Fatalf("profile after SetMailbox: %+v (version before %d)", p, before.Version)
	}

	// The signed profile carries it to contacts.
	befriend(t, o, ann)
	data, sig, err := o.svc.SignedProfile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ann.svc.ApplyProfile(ctx, o.key, data, sig)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mailbox == nil || got.Mailbox.Key != box.key {
		t.Fatalf("ann's view of olga's mailbox: %+v", got.Mailbox)
	}
	if ref, ok := ann.svc.MailboxOf(ctx, o.key); !ok || ref.Key != box.key {
		t.Errorf("MailboxOf: %+v %v", ref, ok)
	}

	if p, err = o.svc.ClearMailbox(ctx); err != nil || p.Mailbox != nil {
		t.Fatalf("clear: %+v %v", p, err)
	}
	data, sig, _ = o.svc.SignedProfile(ctx)
	if got, err = ann.svc.ApplyProfile(ctx, o.key, data, sig); err != nil || got.Mailbox != nil {
		t.Errorf("after clearing, ann still sees %+v (%v)", got.Mailbox, err)
	}
}

// A profile naming a bad mailbox is refused whole.
func TestProfileWithBadMailboxRefused(t *testing.T) {
	ctx := context.Background()
	o, ann := newDevice(t, "olga"), newDevice(t, "ann")
	for name, ref := range map[string]app.MailboxRef{
		"itself":        {Key: o.key},
		"no key":        {},
		"too many":      {Key: ann.key, Addrs: []string{"/a", "/b", "/c", "/d", "/e"}},
		"not a address": {Key: ann.key, Addrs: []string{"example.com"}},
	} {
		wire := map[string]any{"key": o.key, "handle": "olga", "version": 9, "mailbox": ref}
		data, _ := json.Marshal(wire)
		if _, err := ann.svc.ApplyProfile(ctx, o.key, data, seal.SignProfile(o.id.SignPriv, data)); !errors.Is(err, app.ErrBadEvent) {
			t.Errorf("%s: got %v, want ErrBadEvent", name, err)
		}
	}
}

func TestMailboxHoldReleaseReceipts(t *testing.T) {
	ctx := context.Background()
	o, box, ann := newDevice(t, "olga"), newDevice(t, "box"), newDevice(t, "ann")
	befriend(t, o, box)
	befriend(t, o, ann)
	box.svc.SetMailboxHost(true)
	if !box.svc.Serves(ctx, o.key) || box.svc.Serves(ctx, ann.key) {
		t.Fatalf("the box serves its contacts and no one else")
	}

	conv, err := ann.svc.Direct(ctx, o.key, false)
	if err != nil {
		t.Fatal(err)
	}
	var evs []app.Event
	for _, text := range []string{"one", "two", "three"} {
		ev, err := ann.svc.SendText(ctx, conv, text, app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	und, err := ann.svc.Undelivered(ctx, o.key, 10)
	if err != nil || len(und) != 3 {
		t.Fatalf("undelivered before any ack: %d, %v; want 3", len(und), err)
	}
	if err := ann.svc.Delivered(ctx, []app.Delivery{{By: o.key, IDs: []app.EventID{evs[0].ID}}}); err != nil {
		t.Fatal(err)
	}
	und, _ = ann.svc.Undelivered(ctx, o.key, 10)
	if len(und) != 2 || und[0].ID != evs[1].ID {
		t.Fatalf("undelivered after olga acked the first: %d events", len(und))
	}

	held, _, err := box.svc.Deposit(ctx, ann.key, o.key, und)
	if err != nil || len(held) != 2 {
		t.Fatalf("deposit: %v %v", held, err)
	}
	// The same again is held once.
	held, _, err = box.svc.Deposit(ctx, ann.key, o.key, und)
	if err != nil || len(held) != 2 {
		t.Fatalf("repeated deposit: %v %v", held, err)
	}
	hs, _ := box.svc.Holdings(ctx)
	if len(hs) != 1 || hs[0].Events != 2 || hs[0].Handle != "olga" {
		t.Fatalf("holdings: %+v", hs)
	}

	batch, err := box.svc.Held(ctx, o.key, 0, 1, 1<<20)
	if err != nil || len(batch) != 1 || batch[0].ID != evs[1].ID {
		t.Fatalf("first held batch: %+v %v", batch, err)
	}
	rest, _ := box.svc.Held(ctx, o.key, batch[0].RID, 10, 1<<20)
	if len(rest) != 1 || rest[0].ID != evs[2].ID {
		t.Fatalf("held after the first: %+v", rest)
	}
	rs := []app.MailboxReceipt{{ID: evs[1].ID, Conv: conv}, {ID: evs[2].ID, Conv: conv, Refusal: app.RefuseNobody}}
	if err := box.svc.Release(ctx, o.key, rs); err != nil {
		t.Fatal(err)
	}
	if hs, _ := box.svc.Holdings(ctx); len(hs) != 0 {
		t.Errorf("holdings after release: %+v", hs)
	}
	_, got, err := box.svc.Deposit(ctx, ann.key, o.key, nil)
	if err != nil || len(got) != 2 {
		t.Fatalf("receipts: %+v %v", got, err)
	}
	if _, again, _ := box.svc.Deposit(ctx, ann.key, o.key, nil); len(again) != 0 {
		t.Errorf("receipts are handed out once, got %+v again", again)
	}
	if err := ann.svc.ApplyReceipts(ctx, o.key, got); err != nil {
		t.Fatal(err)
	}
	if m, _ := ann.svc.Message(ctx, evs[1].ID); m.Status != app.StatusDelivered {
		t.Errorf("stored by olga: status %q, want delivered", m.Status)
	}
	if ann.svc.Refusal(conv) != app.RefuseNobody {
		t.Errorf("refused by olga: refusal %q, want nobody", ann.svc.Refusal(conv))
	}
}

func TestMailboxLimits(t *testing.T) {
	ctx := context.Background()
	o, box, ann := newDevice(t, "olga"), newDevice(t, "box"), newDevice(t, "ann")
	befriend(t, o, box)
	befriend(t, o, ann)
	box.svc.SetMailboxHost(true)
	conv, _ := ann.svc.Direct(ctx, o.key, false)

	var evs []app.Event
	for range app.MaxDepositEvents + 1 {
		ev, err := ann.svc.SendText(ctx, conv, "x", app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	wantErr(t, "oversized deposit", func() error { _, _, err := box.svc.Deposit(ctx, ann.key, o.key, evs); return err }(), app.ErrTooLarge)
	if err := box.svc.Block(ctx, ann.key); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "deposit by a blocked peer", func() error { _, _, err := box.svc.Deposit(ctx, ann.key, o.key, evs[:1]); return err }(), app.ErrBlocked)
	if err := box.svc.Unblock(ctx, ann.key); err != nil {
		t.Fatal(err)
	}

	// Held for too long, dropped with the next deposit.
	if _, _, err := box.svc.Deposit(ctx, ann.key, o.key, evs[:1]); err != nil {
		t.Fatal(err)
	}
	box.now = box.now.Add(app.HeldFor + time.Hour)
	if _, _, err := box.svc.Deposit(ctx, ann.key, o.key, evs[1:2]); err != nil {
		t.Fatal(err)
	}
	batch, _ := box.svc.Held(ctx, o.key, 0, 10, 1<<20)
	if len(batch) != 1 || batch[0].ID != evs[1].ID {
		t.Errorf("after a month, held: %d events, want only the new one", len(batch))
	}
}
