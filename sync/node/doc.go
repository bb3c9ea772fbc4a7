// Package node is Kite's network layer: the libp2p host (TCP+Noise+yamux
// and QUIC), the connection gater and resource limits, discovery (mDNS on
// the LAN; DHT, AutoNAT, relay v2 and hole punching across the internet),
// the handlers of /kite/profile, /kite/sync and /kite/signal, and the
// mailbox (/kite/mailbox: holding events for contacts who are away, and
// depositing with and draining one's own).
//
// The wide network (wan.go) is three choices in Params, the flags of
// `kite serve` and the app: DHT (--dht, --bootstrap) for peer routing,
// AutoNAT and autorelay; Relays (--relay) for relays the node keeps a
// slot on whatever AutoNAT says; RelayService (--relay-service) for an
// always-on public node that relays for others (bounded, see
// relayResources) and serves the DHT. The relay transport and hole
// punching are always on, and a peer reached directly is no longer
// reached through a relay.
//
// It owns connections, streams and the per-peer session state (what was
// sent and not yet acknowledged, who handed over which event, redial
// backoff, typing timers). It reads and writes the replicas only through
// the Service interface declared here, which *app.Service satisfies.
//
// It must never write to the store but through Service.Ingest, never trust
// the peer that delivers an event for its author (events verify
// themselves), never serve a conversation to a peer that does not take
// part in it, and never allocate for a frame before checking its length.
package node
