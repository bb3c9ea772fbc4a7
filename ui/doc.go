// Package ui is Kite's desktop window, built with Fyne: the inbox, the
// conversation view, the composer, the new-message dialog, the info panel,
// requests, settings, the first-run and unlock windows, notifications and
// the tray menu.
//
// It owns how things look and feel, and nothing else. It talks to the
// domain only through the small interfaces declared in service.go, which
// *app.Service satisfies; every rule of a conversation lives in package app.
//
// It keeps little: the pages it shows, the people those pages name (read
// with each page, never the whole list), and a bounded cache of decoded
// profile pictures. Text is wrapped from the widths of words, which Fyne
// caches, so opening a chat shapes each line about once.
//
// It must never import sync/..., app/store or Fyne's app package (cmd/kite
// makes the fyne.App and passes it in), never call the service on the UI
// thread for lists (pages are read in goroutines and applied with fyne.Do),
// never show a raw Go error to a person (app.Plain gives the words; the
// rest is logged with slog), and never panic.
package ui
