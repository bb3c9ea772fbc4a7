package app

// Media modes: what the recipient may do with a photo or video.
const (
	ModeKeep        = 0 // an ordinary blob, kept in the chat
	ModeViewOnce    = 1 // in memory only, viewed once
	ModeAllowReplay = 2 // in memory only, viewed once and replayed once
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
