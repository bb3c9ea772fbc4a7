// Package localapi is Kite's local HTTP+JSON API: the automation API for
// bots and the way the CLI talks to a running instance.
//
// A running instance (the GUI or `kite serve`) serves it on a Unix socket
// in the data dir (mode 0600), or on loopback with a token file where there
// are no Unix sockets. When no instance runs, the CLI serves the same
// handler in process, so every command has one code path. docs/api.md
// describes the endpoints.
//
// It owns request parsing and JSON shapes; every decision is the
// Service's. It never imports the network, the store or the GUI.
package localapi
