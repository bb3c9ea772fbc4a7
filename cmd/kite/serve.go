package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/sync/errgroup"

	"kite/app/localapi"
	"kite/sync/node"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// netOptions are the network flags of serve and the GUI.
type netOptions struct {
	listen    listFlag
	bootstrap listFlag
	noMDNS    bool
	dht       bool
	relays    listFlag
	relaySvc  bool
}

func (o *netOptions) register(fs *flag.FlagSet) {
	fs.Var(&o.listen, "listen", "multiaddr to listen on (repeatable; default all interfaces on a port kept across restarts)")
	fs.Var(&o.bootstrap, "bootstrap", "DHT bootstrap peer multiaddr (repeatable)")
	fs.BoolVar(&o.noMDNS, "no-mdns", false, "do not look for peers on the LAN")
	fs.BoolVar(&o.dht, "dht", false, "join the wide-area DHT (relays, hole punching)")
	fs.Var(&o.relays, "relay", "relay multiaddr to keep a slot on, so peers reach this node through it (repeatable)")
	fs.BoolVar(&o.relaySvc, "relay-service", false, "be a relay for others (an always-on public node; with --dht, a DHT server)")
}

func (c *cli) serve(args []string) error {
	var g globals
	var opts netOptions
	fs := flagSet("serve", &g)
	opts.register(fs)
	mailbox := fs.Bool("mailbox", false, "hold messages for contacts that name this device as their mailbox")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("usage: kite serve [--listen ADDR]... [--no-mdns] [--dht] [--bootstrap ADDR]... [--relay ADDR]... [--relay-service]")
	}
	inst, err := c.open(&g, slog.LevelInfo)
	if err != nil {
		return err
	}
	defer inst.Close()
	inst.svc.SetMailboxHost(*mailbox)
	n, err := newNode(inst, opts)
	if err != nil {
		return err
	}
	p, _ := inst.svc.Profile(c.ctx)
	fmt.Fprintf(c.out, "Kite is serving @%s (%s)\n", p.Handle, inst.id.PeerID())
	if *mailbox {
		fmt.Fprintln(c.out, "and is a mailbox for its contacts")
	}
	return runNode(c.ctx, inst, n, func() {
		for _, a := range n.Addrs() {
			fmt.Fprintf(c.out, "listening on %s\n", a)
		}
	})
}

func newNode(inst *instance, opts netOptions) (*node.Node, error) {
	n, err := node.New(node.Params{
		Service:      inst.svc,
		Identity:     inst.id,
		Listen:       opts.listen,
		DataDir:      inst.dir,
		MDNS:         !opts.noMDNS,
		DHT:          opts.dht,
		Bootstrap:    opts.bootstrap,
		Relays:       opts.relays,
		RelayService: opts.relaySvc,
		Log:          inst.log,
	})
	if err != nil {
		return nil, fmt.Errorf("start the network: %w", err)
	}
	return n, nil
}

// runNode runs the service, the network node and the local API until ctx
// ends or one of them fails. ready is called once they are started.
func runNode(ctx context.Context, inst *instance, n *node.Node, ready func()) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return inst.svc.Run(ctx) })
	g.Go(func() error { return n.Run(ctx) })
	g.Go(func() error {
		return localapi.Serve(ctx, inst.dir, localapi.New(inst.svc, netAdapter{n}, inst.log))
	})
	if ready != nil {
		ready()
	}
	return g.Wait()
}

// netAdapter shows the node through the API's Network interface.
type netAdapter struct{ n *node.Node }

func (a netAdapter) Addrs() []string { return a.n.Addrs() }

func (a netAdapter) Connect(ctx context.Context, addrs []string) error {
	return a.n.Connect(ctx, addrs)
}

func (a netAdapter) Nearby() []localapi.NearbyPeer {
	out := []localapi.NearbyPeer{}
	for _, p := range a.n.Nearby() {
		out = append(out, localapi.NearbyPeer{PeerID: p.Key.String(), Handle: p.Handle, Name: p.Name, Addrs: p.Addrs, Seen: p.Seen})
	}
	return out
}

func (a netAdapter) Peers() []localapi.ConnectedPeer {
	out := []localapi.ConnectedPeer{}
	for _, p := range a.n.Peers() {
		out = append(out, localapi.ConnectedPeer{PeerID: p.Key.String(), Addr: p.Addr, Transport: p.Transport, LAN: p.LAN})
	}
	return out
}
