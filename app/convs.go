package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kite/app/pb"
)

// Themes are the chat colour themes every device knows.
var Themes = []string{"default", "ocean", "sunset", "forest", "berry", "mono"}

// Mute durations people can choose; MuteForever lasts until turned off.
const MuteForever time.Duration = -1

// Conversation reads one conversation.
func (s *Service) Conversation(ctx context.Context, id ConvID) (Conversation, error) {
	c, err := s.store.Conversation(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return c, Userf(ErrNotFound, "no conversation %s", id.String()[:12])
	}
	if err != nil {
		return c, fmt.Errorf("app: read conversation: %w", err)
	}
	return c, nil
}

func (s *Service) setState(ctx context.Context, conv ConvID, update func(*ConvState)) error {
	if _, err := s.Conversation(ctx, conv); err != nil {
		return err
	}
	if err := s.store.SetConvState(ctx, conv, update); err != nil {
		return fmt.Errorf("app: update conversation: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdConversation, Conv: conv})
	return nil
}

// Mute silences a conversation for 1 h, 8 h, 24 h or until turned off
// (MuteForever); 0 unmutes.
func (s *Service) Mute(ctx context.Context, conv ConvID, d time.Duration) error {
	var until time.Time
	switch d {
	case 0:
	case time.Hour, 8 * time.Hour, 24 * time.Hour:
		until = s.now().Add(d)
	case MuteForever:
		until = MutedForever
	default:
		return Userf(ErrInvalid, "mute for 1h, 8h, 24h or until turned off")
	}
	return s.setState(ctx, conv, func(st *ConvState) { st.MutedUntil = until })
}

// Pin keeps a conversation at the top of the inbox.
func (s *Service) Pin(ctx context.Context, conv ConvID, on bool) error {
	return s.setState(ctx, conv, func(st *ConvState) { st.Pinned = on })
}

// Archive moves a conversation out of the inbox, or back.
func (s *Service) Archive(ctx context.Context, conv ConvID, on bool) error {
	return s.setState(ctx, conv, func(st *ConvState) { st.Archived = on })
}

// Move puts a conversation in Primary or General.
func (s *Service) Move(ctx context.Context, conv ConvID, f Folder) error {
	if f != Primary && f != General {
		return Userf(ErrInvalid, "a chat can be moved to primary or general")
	}
	c, err := s.Conversation(ctx, conv)
	if err != nil {
		return err
	}
	if c.Folder == Requests {
		return Userf(ErrInvalid, "accept the request first")
	}
	return s.setState(ctx, conv, func(st *ConvState) { st.Folder = f })
}

// SetTheme changes a conversation's colours for every member.
func (s *Service) SetTheme(ctx context.Context, conv ConvID, theme string) (Event, error) {
	known := false
	for _, t := range Themes {
		known = known || t == theme
	}
	if !known {
		return Event{}, Userf(ErrInvalid, "unknown theme %q", theme)
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	return s.append(ctx, c, KindTheme, &pb.Body{Content: &pb.Body_Theme{Theme: &pb.Theme{Theme: theme}}})
}

// SetDisappearing sets disappearing messages for every member: off, after
// seen, or after 1 h, 24 h or 7 days.
func (s *Service) SetDisappearing(ctx context.Context, conv ConvID, seconds int64) (Event, error) {
	switch seconds {
	case DisappearOff, DisappearAfterSeen, 3600, 24 * 3600, 7 * 24 * 3600:
	default:
		return Event{}, Userf(ErrInvalid, "disappearing messages: off, after seen, 1h, 24h or 7d")
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	return s.append(ctx, c, KindDisappearing, &pb.Body{Content: &pb.Body_Disappearing{Disappearing: &pb.Disappearing{Seconds: seconds}}})
}

// Report saves a report of a conversation on this device, with its newest
// messages.
func (s *Service) Report(ctx context.Context, conv ConvID, reason string) error {
	ms, err := s.store.Messages(ctx, conv, Cursor{}, 50)
	if err != nil {
		return fmt.Errorf("app: report: %w", err)
	}
	ids := make([]EventID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	if err := s.store.SaveReport(ctx, conv, reason, ids); err != nil {
		return fmt.Errorf("app: report: %w", err)
	}
	return nil
}

// Inbox reads a page of the inbox.
func (s *Service) Inbox(ctx context.Context, q InboxQuery) ([]Conversation, error) {
	if q.Folder == "" {
		q.Folder = Primary
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	cs, err := s.store.Inbox(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("app: inbox: %w", err)
	}
	return cs, nil
}

// Messages reads a page of a conversation, older than before (zero: the
// newest), in display order. Messages of blocked people in groups are
// stored and relayed but not shown.
func (s *Service) Messages(ctx context.Context, conv ConvID, before Cursor, limit int) ([]Message, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	c, err := s.Conversation(ctx, conv)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Messages(ctx, conv, before, limit)
	if err != nil {
		return nil, fmt.Errorf("app: messages: %w", err)
	}
	if c.Kind != Group {
		return ms, nil
	}
	blocked, err := s.blockedAuthors(ctx, ms)
	if err != nil || len(blocked) == 0 {
		return ms, err
	}
	out := ms[:0]
	for _, m := range ms {
		if !blocked[m.Author] {
			out = append(out, m)
		}
	}
	return out, nil
}

// blockedAuthors are the blocked authors of ms. It looks up each author
// once rather than reading everyone known (10,000 people took 50–100 ms
// per page of a group).
func (s *Service) blockedAuthors(ctx context.Context, ms []Message) (map[PeerKey]bool, error) {
	seen := make(map[PeerKey]bool)
	set := make(map[PeerKey]bool)
	for _, m := range ms {
		if seen[m.Author] {
			continue
		}
		seen[m.Author] = true
		p, err := s.store.Person(ctx, m.Author)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("app: read people: %w", err)
		}
		if p.Blocked {
			set[m.Author] = true
		}
	}
	return set, nil
}

// Message reads one message.
func (s *Service) Message(ctx context.Context, id EventID) (Message, error) {
	return s.message(ctx, id)
}

// ResolveMessage turns a full ID or a hex prefix of at least 8 digits
// into a message ID.
func (s *Service) ResolveMessage(ctx context.Context, s2 string) (EventID, error) {
	if id, err := ParseEventID(s2); err == nil {
		return id, nil
	}
	id, err := s.store.MessageByPrefix(ctx, s2)
	switch {
	case errors.Is(err, ErrAmbiguous):
		return id, Userf(ErrAmbiguous, "several messages start with %q: type more of the ID", s2)
	case errors.Is(err, ErrInvalid):
		return id, Userf(ErrInvalid, "%q is not a message ID: use at least 8 of its hex digits", s2)
	case errors.Is(err, ErrNotFound):
		return id, Userf(ErrNotFound, "no message %q", s2)
	case err != nil:
		return id, fmt.Errorf("app: resolve message: %w", err)
	}
	return id, nil
}

// Members lists who is in a conversation.
func (s *Service) Members(ctx context.Context, conv ConvID) ([]Member, error) {
	if _, err := s.Conversation(ctx, conv); err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		return nil, fmt.Errorf("app: members: %w", err)
	}
	return ms, nil
}

// UnreadTotal counts unread messages in unmuted Primary conversations.
func (s *Service) UnreadTotal(ctx context.Context) (int, error) {
	n, err := s.store.UnreadTotal(ctx)
	if err != nil {
		return 0, fmt.Errorf("app: unread: %w", err)
	}
	return n, nil
}
