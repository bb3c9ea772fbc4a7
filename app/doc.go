// Package app is Kite's domain: the entity types, the sentinel errors, the
// Service that carries out every user action, the Updates the UI and the
// network listen to, and the Store and Transport interfaces the Service
// needs.
//
// It owns the rules of a conversation: who may say what, when an event is
// valid, how a body is built. It never imports Fyne, libp2p or SQLite; those
// live at the edges (ui, sync/node, app/store) and depend on this package.
package app
