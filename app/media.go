package app

import (
	"context"
)

// Media modes: what the recipient may do with a photo or video.
const (
	ModeKeep       = 0 // an ordinary blob, kept in the chat
	ModeViewOnce   = 1 // in memory only, viewed once
	ModeAllowReply = 2 // in memory only, viewed once and replayed once
)

// MediaOptions go with SendFile.
type MediaOptions struct {
	Mode    int
	Caption string
	ReplyTo EventID
	// Voice marks an audio recording made in the app.
	Voice bool
}

// Progress publishes how far a blob transfer got; the network calls it.
func (s *Service) Progress(h Hash, done, total int64, err error) {
	s.ProgressFrom(h, PeerKey{}, done, total, err)
}

// sendEphemeral sends view-once media: the bytes stay in this device's
// memory, sealed per recipient (DESIGN.md §6).
//
// The ephemeral media work replaces this file's stub in ephemeral.go.
var _ = context.Background
