package node

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"kite/app"
)

func TestContactSet(t *testing.T) {
	me, box, a, b := newIdentity(t), newIdentity(t), newIdentity(t), newIdentity(t)
	meKey, boxKey := app.PeerKeyOf(me.SignPub), app.PeerKeyOf(box.SignPub)
	aKey, bKey := app.PeerKeyOf(a.SignPub), app.PeerKeyOf(b.SignPub)
	pid := func(k app.PeerKey) peer.ID {
		p, err := peerIDOf(k)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var c contactSet
	if c.has(pid(aKey)) || len(c.boxes()) != 0 {
		t.Fatal("an empty set has someone in it")
	}
	c.replace(meKey, []app.Person{
		{Key: aKey, Contact: true, Mailbox: &app.MailboxRef{Key: boxKey}},
		{Key: bKey, Contact: true, Blocked: true},
	})
	if !c.has(pid(aKey)) || c.has(pid(bKey)) {
		t.Errorf("after load: a %v b %v, want a only (b is blocked)", c.has(pid(aKey)), c.has(pid(bKey)))
	}
	if bs := c.boxes(); len(bs) != 1 || bs[aKey].Key != boxKey {
		t.Errorf("mailboxes after load: %v, want a's", bs)
	}
	c.put(meKey, app.Person{Key: bKey, Contact: true})
	c.put(meKey, app.Person{Key: aKey, Contact: true, Mailbox: &app.MailboxRef{Key: meKey}})
	if !c.has(pid(bKey)) || !c.has(pid(aKey)) {
		t.Error("b unblocked and a still a contact: want both in the set")
	}
	if bs := c.boxes(); len(bs) != 0 {
		t.Errorf("a names this device as its mailbox: mailboxes %v, want none", bs)
	}
	c.put(meKey, app.Person{Key: aKey})
	if c.has(pid(aKey)) {
		t.Error("a is no longer a contact but is still in the set")
	}
	bs := c.boxes()
	bs[aKey] = app.MailboxRef{}
	if len(c.boxes()) != 0 {
		t.Error("boxes hands out the set's own map")
	}
}

// countingPeople counts whole reads of the people table.
type countingPeople struct {
	*app.Service
	reads atomic.Int32
}

func (c *countingPeople) People(ctx context.Context, contactsOnly bool) ([]app.Person, error) {
	c.reads.Add(1)
	return c.Service.People(ctx, contactsOnly)
}

// A change to one person updates the node's contact set from that person
// alone: a node that many contacts reach at once reads no whole table per
// contact.
func TestContactSetFollowsOnePerson(t *testing.T) {
	var svc *countingPeople
	alice := newPeer(t, "alice", func(p *Params) {
		svc = &countingPeople{Service: p.Service.(*app.Service)}
		p.Service = svc
	})
	bob := makePeer(t, "bob")
	bobID, err := peerIDOf(bob.key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Two whole reads belong to starting: New's, and Run's for redialing.
	waitFor(t, 5*time.Second, "alice's start-up reads of her contacts", func() bool { return svc.reads.Load() >= 2 })
	before := svc.reads.Load()
	if _, err := alice.svc.AddContact(ctx, bob.code()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "bob in alice's contact set", func() bool { return alice.node.isContactPeer(bobID) })
	for i := range 10 {
		if err := alice.svc.Restrict(ctx, bob.key, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.svc.Block(ctx, bob.key); err != nil {
		t.Fatal(err)
	}
	redials := func() bool {
		alice.node.mu.Lock()
		defer alice.node.mu.Unlock()
		return alice.node.known[bobID] != nil
	}
	waitFor(t, 5*time.Second, "bob out of alice's contact and redial sets once blocked", func() bool {
		return !alice.node.isContactPeer(bobID) && !redials()
	})
	if err := alice.svc.Unblock(ctx, bob.key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "bob back in both once unblocked", func() bool { return alice.node.isContactPeer(bobID) && redials() })
	if n := svc.reads.Load() - before; n != 0 {
		t.Errorf("%d whole reads of people for 13 changes to one person, want 0", n)
	}
}

// Connect says in plain words what is wrong with an address, and whom it
// could not reach.
func TestConnectSaysWhatIsWrong(t *testing.T) {
	alice := newPeer(t, "alice")
	nobody, err := peerIDOf(app.PeerKeyOf(newIdentity(t).SignPub))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		addr     string
		sentinel error
		want     string
	}{
		{"nonsense", app.ErrInvalid, `"nonsense" is not an address`},
		{"/ip4/127.0.0.1/tcp/1", app.ErrInvalid, "end it with /p2p/"},
		{"/ip4/127.0.0.1/tcp/1/p2p/" + nobody.String(), app.ErrUnreachable, "could not reach " + nobody.String() + " at /ip4/127.0.0.1/tcp/1"},
	} {
		err := alice.node.Connect(ctx, []string{tt.addr})
		var ue *app.UserError
		if !errors.Is(err, tt.sentinel) || !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.want) {
			t.Errorf("Connect(%s): %v; want a plain error mentioning %q", tt.addr, err, tt.want)
		}
	}
	if err := alice.node.Connect(ctx, nil); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("Connect with no address: %v, want ErrInvalid", err)
	}
}
