package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"kite/app/media"
	"kite/app/pb"
	"kite/crypto/keys"
)

// SendText sends text to conv, as a reply when replyTo is set.
func (s *Service) SendText(ctx context.Context, conv ConvID, text string, replyTo EventID) (Event, error) {
	if err := checkText(text); err != nil {
		return Event{}, err
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	return s.sendText(ctx, c, text, replyTo)
}

// sendText is SendText to a conversation writable has checked.
func (s *Service) sendText(ctx context.Context, c Conversation, text string, replyTo EventID) (Event, error) {
	t := &pb.Text{Text: text}
	if !replyTo.IsZero() {
		if err := s.inConv(ctx, replyTo, c.ID); err != nil {
			return Event{}, err
		}
		t.ReplyTo = replyTo[:]
	}
	t.Preview = s.linkPreview(ctx, text)
	return s.append(ctx, c, KindText, &pb.Body{Content: &pb.Body_Text{Text: t}})
}

// PreviewFunc fetches the preview of a link (kite/app/media.FetchPreview).
type PreviewFunc func(ctx context.Context, url string) (media.Preview, error)

// SetLinkPreviews lets the Service fetch link previews when sending: the
// sender fetches, receivers never do. nil turns them off.
func (s *Service) SetLinkPreviews(f PreviewFunc) {
	s.mu.Lock()
	s.previews = f
	s.mu.Unlock()
}

// linkPreview fetches the preview of text's first http(s) link, within
// media.PreviewTimeout; nil when there is none, previews are off or the
// fetch fails (the message goes without one).
func (s *Service) linkPreview(ctx context.Context, text string) *pb.LinkPreview {
	s.mu.Lock()
	fetch := s.previews
	s.mu.Unlock()
	u := media.FirstURL(text)
	if fetch == nil || u == "" {
		return nil
	}
	if st, err := s.store.Settings(ctx); err != nil || !st.LinkPreviews {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, media.PreviewTimeout)
	defer cancel()
	p, err := fetch(pctx, u)
	if err != nil {
		s.log.Debug("link preview", "url", u, "err", err)
		return nil
	}
	return &pb.LinkPreview{Url: u, Title: p.Title, Description: p.Description, Image: p.Image}
}

// SendToMany sends one text to up to MaxRecipients people or
// conversations. Every recipient is resolved before anything is sent, so a
// bad one sends nothing.
func (s *Service) SendToMany(ctx context.Context, tos []string, text string, e2e bool) ([]Event, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	convs, err := s.resolveAll(ctx, tos, e2e)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, c := range convs {
		ev, err := s.sendText(ctx, c, text, EventID{})
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// Forward sends a copy of a message's text or share to up to
// MaxRecipients conversations.
func (s *Service) Forward(ctx context.Context, msg EventID, tos []string) ([]Event, error) {
	m, err := s.message(ctx, msg)
	if err != nil {
		return nil, err
	}
	if m.Unsent || m.Expired {
		return nil, Userf(ErrInvalid, "that message is gone and cannot be forwarded")
	}
	if m.Media != nil && m.Media.Mode != 0 {
		return nil, Userf(ErrInvalid, "view-once media cannot be forwarded")
	}
	var body *pb.Body
	var kind Kind
	switch {
	case m.Kind == KindText:
		kind, body = KindText, &pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: m.Text, ForwardedFrom: msg[:]}}}
	case m.Kind == KindShare && m.Share != nil:
		kind, body = KindShare, &pb.Body{Content: &pb.Body_Share{Share: shareToPB(*m.Share)}}
	case m.Kind == KindMedia && m.Media != nil:
		kind, body = KindMedia, &pb.Body{Content: &pb.Body_Media{Media: mediaToPB(*m.Media)}}
	default:
		return nil, Userf(ErrInvalid, "that kind of message cannot be forwarded")
	}
	convs, err := s.resolveAll(ctx, tos, false)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, c := range convs {
		ev, err := s.append(ctx, c, kind, body)
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// resolveAll resolves each recipient to a conversation this device can
// write to, once each.
func (s *Service) resolveAll(ctx context.Context, tos []string, e2e bool) ([]Conversation, error) {
	if len(tos) == 0 {
		return nil, Userf(ErrInvalid, "say who to send to")
	}
	if len(tos) > MaxRecipients {
		return nil, Userf(ErrTooLarge, "%d recipients: you can send to at most %d at once", len(tos), MaxRecipients)
	}
	seen := make(map[ConvID]bool)
	var convs []Conversation
	for _, to := range tos {
		id, err := s.Resolve(ctx, to, e2e)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		c, err := s.writable(ctx, id)
		if err != nil {
			return nil, err
		}
		seen[id] = true
		convs = append(convs, c)
	}
	return convs, nil
}

// message reads a message by ID with a plain error when it is missing.
func (s *Service) message(ctx context.Context, id EventID) (Message, error) {
	m, err := s.store.Message(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return m, Userf(ErrNotFound, "no message %s", id.Short())
	}
	if err != nil {
		return m, fmt.Errorf("app: read message: %w", err)
	}
	return m, nil
}

func (s *Service) inConv(ctx context.Context, id EventID, conv ConvID) error {
	m, err := s.message(ctx, id)
	if err != nil {
		return err
	}
	if m.Conv != conv {
		return Userf(ErrInvalid, "message %s is in another conversation", id.Short())
	}
	return nil
}

// target reads a message and the conversation it is in, checking that this
// device can act in it.
func (s *Service) target(ctx context.Context, id EventID) (Message, Conversation, error) {
	m, err := s.message(ctx, id)
	if err != nil {
		return m, Conversation{}, err
	}
	c, err := s.writable(ctx, m.Conv)
	return m, c, err
}

// React sets this device's reaction to a message; an empty emoji removes
// it.
func (s *Service) React(ctx context.Context, msg EventID, emoji string) (Event, error) {
	emoji = strings.TrimSpace(emoji)
	if !utf8.ValidString(emoji) || utf8.RuneCountInString(emoji) > 16 {
		return Event{}, Userf(ErrInvalid, "a reaction is one emoji")
	}
	m, c, err := s.target(ctx, msg)
	if err != nil {
		return Event{}, err
	}
	if m.Unsent || m.Expired {
		return Event{}, Userf(ErrInvalid, "that message is gone")
	}
	return s.append(ctx, c, KindReaction, &pb.Body{Content: &pb.Body_Reaction{Reaction: &pb.Reaction{Target: msg[:], Emoji: emoji}}})
}

// Edit replaces the text of one of this device's own messages, within
// EditWindow of sending it.
func (s *Service) Edit(ctx context.Context, msg EventID, text string) (Event, error) {
	if err := checkText(text); err != nil {
		return Event{}, err
	}
	m, c, err := s.target(ctx, msg)
	if err != nil {
		return Event{}, err
	}
	switch {
	case m.Author != s.me:
		return Event{}, Userf(ErrNotAuthor, "you can only edit your own messages")
	case m.Kind != KindText:
		return Event{}, Userf(ErrInvalid, "only text messages can be edited")
	case m.Unsent || m.Expired:
		return Event{}, Userf(ErrInvalid, "that message is gone")
	case s.now().Sub(m.Time) > EditWindow:
		return Event{}, Userf(ErrTooLate, "messages can only be edited within %v of sending", EditWindow)
	}
	return s.append(ctx, c, KindEdit, &pb.Body{Content: &pb.Body_Edit{Edit: &pb.Edit{Target: msg[:], Text: text}}})
}

// Unsend removes one of this device's own messages for everyone.
func (s *Service) Unsend(ctx context.Context, msg EventID) (Event, error) {
	m, c, err := s.target(ctx, msg)
	if err != nil {
		return Event{}, err
	}
	switch {
	case m.Author != s.me:
		return Event{}, Userf(ErrNotAuthor, "you can only unsend your own messages")
	case m.System != "":
		return Event{}, Userf(ErrInvalid, "group changes cannot be unsent")
	case m.Unsent:
		return Event{}, Userf(ErrInvalid, "that message was already unsent")
	}
	return s.append(ctx, c, KindUnsend, &pb.Body{Content: &pb.Body_Unsend{Unsend: &pb.Target{Target: msg[:]}}})
}

// DeleteForMe hides a message on this device only.
func (s *Service) DeleteForMe(ctx context.Context, msg EventID) error {
	if _, err := s.message(ctx, msg); err != nil {
		return err
	}
	if err := s.store.DeleteForMe(ctx, msg); err != nil {
		return fmt.Errorf("app: delete for me: %w", err)
	}
	m, _ := s.store.Message(ctx, msg)
	s.bus.Publish(Update{Kind: UpdConversation, Conv: m.Conv})
	return nil
}

// DeleteConversation clears a conversation on this device only.
func (s *Service) DeleteConversation(ctx context.Context, conv ConvID) error {
	if _, err := s.Conversation(ctx, conv); err != nil {
		return err
	}
	if err := s.store.ClearConversation(ctx, conv); err != nil {
		return fmt.Errorf("app: delete conversation: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdConversation, Conv: conv})
	return nil
}

// ShareContact sends a person's contact card.
func (s *Service) ShareContact(ctx context.Context, conv ConvID, who PeerKey) (Event, error) {
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	var code, name string
	if who == s.me {
		p, _ := s.Profile(ctx)
		code, name = s.id.ContactCode(p.Handle, nil).String(), p.Name
	} else {
		p, err := s.store.Person(ctx, who)
		if err != nil {
			return Event{}, Userf(ErrNotFound, "no contact %s", who)
		}
		code = keys.ContactCode{PeerID: who.String(), SignPub: who.Public(), BoxPub: [32]byte(p.BoxKey), Handle: p.Handle, Addrs: p.Addrs}.String()
		name = p.DisplayName()
	}
	sh := &pb.Share{What: &pb.Share_Contact{Contact: &pb.Contact{Code: code, Name: name}}}
	return s.append(ctx, c, KindShare, &pb.Body{Content: &pb.Body_Share{Share: sh}})
}

// ShareLocation sends a point on the map.
func (s *Service) ShareLocation(ctx context.Context, conv ConvID, lat, lon float64, label string) (Event, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return Event{}, Userf(ErrInvalid, "a location needs latitude -90..90 and longitude -180..180")
	}
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > 200 {
		return Event{}, Userf(ErrInvalid, "a location label is at most 200 characters")
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	sh := &pb.Share{What: &pb.Share_Location{Location: &pb.Location{Latitude: lat, Longitude: lon, Label: label}}}
	return s.append(ctx, c, KindShare, &pb.Body{Content: &pb.Body_Share{Share: sh}})
}

// ShareHashtag sends a hashtag, which search finds.
func (s *Service) ShareHashtag(ctx context.Context, conv ConvID, tag string) (Event, error) {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "#")
	if tag == "" || utf8.RuneCountInString(tag) > 100 || strings.ContainsAny(tag, " \t\n#") || !utf8.ValidString(tag) {
		return Event{}, Userf(ErrInvalid, "a hashtag is one word of at most 100 characters")
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	sh := &pb.Share{What: &pb.Share_Hashtag{Hashtag: tag}}
	return s.append(ctx, c, KindShare, &pb.Body{Content: &pb.Body_Share{Share: sh}})
}

// ShareLink sends an http or https link.
func (s *Service) ShareLink(ctx context.Context, conv ConvID, link string) (Event, error) {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(link) > 2048 {
		return Event{}, Userf(ErrInvalid, "%q is not an http or https link", link)
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	sh := &pb.Share{What: &pb.Share_Link{Link: u.String()}}
	return s.append(ctx, c, KindShare, &pb.Body{Content: &pb.Body_Share{Share: sh}})
}

// CreatePoll asks a question with 2 to 10 options.
func (s *Service) CreatePoll(ctx context.Context, conv ConvID, question string, options []string) (Event, error) {
	if err := checkText(question); err != nil {
		return Event{}, err
	}
	if len(options) < 2 || len(options) > 10 {
		return Event{}, Userf(ErrInvalid, "a poll has 2 to 10 options, not %d", len(options))
	}
	seen := make(map[string]bool)
	for _, o := range options {
		o = strings.TrimSpace(o)
		if o == "" || !utf8.ValidString(o) || utf8.RuneCountInString(o) > 100 {
			return Event{}, Userf(ErrInvalid, "each poll option is 1 to 100 characters")
		}
		if seen[o] {
			return Event{}, Userf(ErrInvalid, "the option %q is there twice", o)
		}
		seen[o] = true
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	return s.append(ctx, c, KindPoll, &pb.Body{Content: &pb.Body_Poll{Poll: &pb.Poll{Question: question, Options: options}}})
}

// Vote chooses an option of a poll (0-based); -1 withdraws the vote.
func (s *Service) Vote(ctx context.Context, poll EventID, option int) (Event, error) {
	m, c, err := s.target(ctx, poll)
	if err != nil {
		return Event{}, err
	}
	if m.Poll == nil {
		return Event{}, Userf(ErrInvalid, "message %s is not a poll", poll.Short())
	}
	if option < -1 || option >= len(m.Poll.Options) {
		return Event{}, Userf(ErrInvalid, "the poll has options 1 to %d", len(m.Poll.Options))
	}
	return s.append(ctx, c, KindVote, &pb.Body{Content: &pb.Body_Vote{Vote: &pb.Vote{Poll: poll[:], Option: int32(option)}}})
}

// MarkSeen records that this device has seen conv up to upTo (zero: the
// newest message) and tells the network, which sends it when read receipts
// are on.
func (s *Service) MarkSeen(ctx context.Context, conv ConvID, upTo EventID) error {
	if _, err := s.Conversation(ctx, conv); err != nil {
		return err
	}
	if upTo.IsZero() {
		last, err := s.store.Messages(ctx, conv, Cursor{}, 1)
		if err != nil {
			return fmt.Errorf("app: mark seen: %w", err)
		}
		if len(last) == 0 {
			return nil
		}
		upTo = last[0].ID
	} else if err := s.inConv(ctx, upTo, conv); err != nil {
		return err
	}
	if err := s.store.MarkSeen(ctx, conv, s.me, upTo); err != nil {
		return fmt.Errorf("app: mark seen: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdSeen, Conv: conv, Peer: s.me, Seen: upTo})
	return nil
}

// Search finds messages by text, newest first; zero conv searches all.
func (s *Service) Search(ctx context.Context, query string, conv ConvID, limit int) ([]Message, error) {
	if strings.TrimSpace(query) == "" {
		return nil, Userf(ErrInvalid, "type something to search for")
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	ms, err := s.store.Search(ctx, query, conv, limit)
	if errors.Is(err, ErrInvalid) {
		return nil, Userf(ErrInvalid, "nothing to search for in %q", query)
	}
	if err != nil {
		return nil, fmt.Errorf("app: search: %w", err)
	}
	return ms, nil
}

func shareToPB(sh Share) *pb.Share {
	out := &pb.Share{Caption: sh.Caption}
	switch sh.Type {
	case "contact":
		out.What = &pb.Share_Contact{Contact: &pb.Contact{Code: sh.Code, Name: sh.Name}}
	case "location":
		out.What = &pb.Share_Location{Location: &pb.Location{Latitude: sh.Latitude, Longitude: sh.Longitude, Label: sh.Label}}
	case "hashtag":
		out.What = &pb.Share_Hashtag{Hashtag: sh.Hashtag}
	case "link":
		out.What = &pb.Share_Link{Link: sh.Link}
	}
	return out
}

func mediaToPB(m Media) *pb.Media {
	return &pb.Media{
		Hash: m.Hash[:], Size: m.Size, Mime: m.MIME, Name: m.Name, Width: uint32(m.Width),
		Height: uint32(m.Height), DurationMs: uint32(m.DurationMs), Thumbnail: m.Thumbnail, Caption: m.Caption,
	}
}
