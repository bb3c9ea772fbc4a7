package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"kite/crypto/keys"
	"kite/crypto/seal"
)

var handleRE = regexp.MustCompile(`^[a-z0-9._]{1,30}$`)

// CheckHandle validates a handle: 1 to 30 of a-z, 0-9, dot and underscore.
func CheckHandle(h string) error {
	if !handleRE.MatchString(h) {
		return Userf(ErrInvalid, "a handle is 1 to 30 lowercase letters, digits, dots or underscores, not %q", h)
	}
	return nil
}

// AddContact adds the person a contact code names, and moves a pending
// request from them to Primary.
func (s *Service) AddContact(ctx context.Context, code string) (Person, error) {
	cc, err := keys.ParseContactCode(code)
	if err != nil {
		return Person{}, Userf(ErrInvalid, "that contact code is not valid: %s", strings.TrimPrefix(err.Error(), "keys: "))
	}
	key := PeerKeyOf(cc.SignPub)
	if key == s.me {
		return Person{}, Userf(ErrInvalid, "that is your own contact code")
	}
	p, err := s.store.PutPerson(ctx, key, func(p *Person) {
		if !p.BoxKey.IsZero() && p.BoxKey != Hash(cc.BoxPub) {
			p.KeyChanged = true
		}
		p.BoxKey = Hash(cc.BoxPub)
		if cc.Handle != "" {
			p.Handle = cc.Handle
		}
		if len(cc.Addrs) > 0 {
			p.Addrs = cc.Addrs
		}
		p.Contact = true
	})
	if err != nil {
		return Person{}, fmt.Errorf("app: add contact: %w", err)
	}
	if err := s.acceptFrom(ctx, key); err != nil {
		return p, err
	}
	s.bus.Publish(Update{Kind: UpdPeople, Peer: key})
	s.bus.Publish(Update{Kind: UpdContactAdded, Peer: key, Addrs: cc.Addrs})
	return p, nil
}

// acceptFrom moves 1:1 requests from peer to Primary.
func (s *Service) acceptFrom(ctx context.Context, peer PeerKey) error {
	for _, e2e := range []bool{false, true} {
		id := DirectConvID(s.me, peer, e2e)
		c, err := s.store.Conversation(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("app: accept: %w", err)
		}
		if c.Folder == Requests {
			if err := s.setState(ctx, id, func(st *ConvState) { st.Folder = Primary }); err != nil {
				return err
			}
		}
	}
	return nil
}

// ContactCode is this device's contact code with the given addresses.
func (s *Service) ContactCode(ctx context.Context, addrs []string) (string, error) {
	p, err := s.Profile(ctx)
	if err != nil {
		return "", fmt.Errorf("app: contact code: %w", err)
	}
	return s.id.ContactCode(p.Handle, addrs).String(), nil
}

// People lists known peers, or contacts only.
func (s *Service) People(ctx context.Context, contactsOnly bool) ([]Person, error) {
	ps, err := s.store.People(ctx, contactsOnly)
	if err != nil {
		return nil, fmt.Errorf("app: people: %w", err)
	}
	return ps, nil
}

// Person reads one peer.
func (s *Service) Person(ctx context.Context, key PeerKey) (Person, error) {
	p, err := s.store.Person(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return p, Userf(ErrNotFound, "no one with peer ID %s", key)
	}
	return p, err
}

// ResolvePerson turns a handle or peer ID into a known peer.
func (s *Service) ResolvePerson(ctx context.Context, who string) (PeerKey, error) {
	who = strings.TrimSpace(who)
	if k, err := ParsePeer(who); err == nil {
		return k, nil
	}
	p, err := s.store.PersonByHandle(ctx, strings.TrimPrefix(who, "@"))
	switch {
	case errors.Is(err, ErrNotFound):
		return PeerKey{}, Userf(ErrNotFound, "no one called %q", who)
	case errors.Is(err, ErrAmbiguous):
		return PeerKey{}, Userf(ErrAmbiguous, "several people are called %q: use their peer ID", who)
	case err != nil:
		return PeerKey{}, fmt.Errorf("app: resolve %q: %w", who, err)
	}
	return p.Key, nil
}

// Block refuses a peer: the network stops talking to them, across
// restarts; in groups their messages are kept but hidden.
func (s *Service) Block(ctx context.Context, peer PeerKey) error {
	if peer == s.me {
		return Userf(ErrInvalid, "you cannot block yourself")
	}
	return s.putPerson(ctx, peer, func(p *Person) { p.Blocked = true })
}

// Unblock lets a peer talk to this device again.
func (s *Service) Unblock(ctx context.Context, peer PeerKey) error {
	if _, err := s.Person(ctx, peer); err != nil {
		return err
	}
	return s.putPerson(ctx, peer, func(p *Person) { p.Blocked = false })
}

// Restrict quietly moves a peer's chat to General: no notifications and
// no read receipts, without the peer knowing.
func (s *Service) Restrict(ctx context.Context, peer PeerKey, on bool) error {
	if err := s.putPerson(ctx, peer, func(p *Person) { p.Restricted = on }); err != nil {
		return err
	}
	folder := Primary
	if on {
		folder = General
	}
	for _, e2e := range []bool{false, true} {
		id := DirectConvID(s.me, peer, e2e)
		if c, err := s.store.Conversation(ctx, id); err == nil && c.Folder != Requests {
			if err := s.setState(ctx, id, func(st *ConvState) { st.Folder = folder }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) putPerson(ctx context.Context, peer PeerKey, update func(*Person)) error {
	if _, err := s.store.PutPerson(ctx, peer, update); err != nil {
		return fmt.Errorf("app: update person: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdPeople, Peer: peer})
	return nil
}

// request reads a conversation that is a pending request.
func (s *Service) request(ctx context.Context, conv ConvID) (Conversation, error) {
	c, err := s.Conversation(ctx, conv)
	if err != nil {
		return c, err
	}
	if c.Folder != Requests {
		return c, Userf(ErrInvalid, "that conversation is not a request")
	}
	return c, nil
}

// AcceptRequest makes the sender a contact and moves the chat to Primary.
func (s *Service) AcceptRequest(ctx context.Context, conv ConvID) error {
	c, err := s.request(ctx, conv)
	if err != nil {
		return err
	}
	if err := s.putPerson(ctx, c.Peer, func(p *Person) { p.Contact = true }); err != nil {
		return err
	}
	return s.setState(ctx, conv, func(st *ConvState) { st.Folder = Primary })
}

// DeleteRequest removes a request from this device.
func (s *Service) DeleteRequest(ctx context.Context, conv ConvID) error {
	if _, err := s.request(ctx, conv); err != nil {
		return err
	}
	return s.DeleteConversation(ctx, conv)
}

// BlockRequest blocks the sender of a request and removes it.
func (s *Service) BlockRequest(ctx context.Context, conv ConvID) error {
	c, err := s.request(ctx, conv)
	if err != nil {
		return err
	}
	if err := s.Block(ctx, c.Peer); err != nil {
		return err
	}
	return s.DeleteConversation(ctx, conv)
}

// Settings reads this device's settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	st, err := s.store.Settings(ctx)
	if err != nil {
		return st, fmt.Errorf("app: settings: %w", err)
	}
	return st, nil
}

// UpdateSettings changes settings through update, validating the result.
func (s *Service) UpdateSettings(ctx context.Context, update func(*Settings)) (Settings, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return st, err
	}
	update(&st)
	switch st.WhoCanMessage {
	case Everyone, ContactsOnly, Nobody:
	default:
		return st, Userf(ErrInvalid, "who can message you: everyone, contacts or nobody, not %q", st.WhoCanMessage)
	}
	switch st.Appearance {
	case "light", "dark", "system":
	default:
		return st, Userf(ErrInvalid, "appearance: light, dark or system, not %q", st.Appearance)
	}
	if err := s.store.SaveSettings(ctx, st); err != nil {
		return st, fmt.Errorf("app: save settings: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdSettings})
	return st, nil
}

// Profile reads this device's profile.
func (s *Service) Profile(ctx context.Context) (Profile, error) {
	p, err := s.store.Profile(ctx)
	if errors.Is(err, ErrNotFound) {
		return Profile{}, nil // none saved yet
	}
	if err != nil {
		return p, fmt.Errorf("app: profile: %w", err)
	}
	return p, nil
}

// SetProfile changes handle, name and bio (avatar is set by media).
func (s *Service) SetProfile(ctx context.Context, handle, name, bio string) (Profile, error) {
	if err := CheckHandle(handle); err != nil {
		return Profile{}, err
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64 {
		return Profile{}, Userf(ErrInvalid, "a name is at most 64 characters")
	}
	if !utf8.ValidString(bio) || utf8.RuneCountInString(bio) > 150 {
		return Profile{}, Userf(ErrInvalid, "a bio is at most 150 characters")
	}
	return s.changeProfile(ctx, func(p *Profile) {
		p.Handle, p.Name, p.Bio = handle, strings.TrimSpace(name), strings.TrimSpace(bio)
	})
}

// changeProfile applies update to the profile and bumps its version, so
// peers take the new one.
func (s *Service) changeProfile(ctx context.Context, update func(*Profile)) (Profile, error) {
	p, err := s.Profile(ctx)
	if err != nil {
		return p, err
	}
	update(&p)
	p.Version++
	if err := s.store.SaveProfile(ctx, p); err != nil {
		return p, fmt.Errorf("app: save profile: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdSettings})
	return p, nil
}

// profileWire is the signed form of a profile exchanged between peers.
type profileWire struct {
	Key     PeerKey `json:"key"`
	BoxKey  Hash    `json:"box_key"`
	Handle  string  `json:"handle"`
	Name    string  `json:"name"`
	Bio     string  `json:"bio"`
	Avatar  Hash    `json:"avatar"`
	Version uint64  `json:"version"`
	// Mailbox is where contacts deposit events while this device is away.
	Mailbox *MailboxRef `json:"mailbox,omitempty"`
	// AvatarJPEG is the avatar itself (at most MaxAvatarBytes), so a
	// peer has it with the profile.
	AvatarJPEG []byte `json:"avatar_jpeg,omitempty"`
}

// SignedProfile is this device's profile as sent to peers: JSON bytes and
// the identity's signature over them.
func (s *Service) SignedProfile(ctx context.Context) (data, sig []byte, err error) {
	p, err := s.Profile(ctx)
	if err != nil {
		return nil, nil, err
	}
	w := profileWire{Key: s.me, BoxKey: Hash(*s.id.BoxPub), Handle: p.Handle, Name: p.Name, Bio: p.Bio, Avatar: p.Avatar, Version: p.Version, Mailbox: p.Mailbox}
	if b, err := s.avatarBytes(p.Avatar); err == nil {
		w.AvatarJPEG = b
	}
	data, err = json.Marshal(w)
	if err != nil {
		return nil, nil, fmt.Errorf("app: encode profile: %w", err)
	}
	return data, seal.SignProfile(s.id.SignPriv, data), nil
}

// ApplyProfile verifies a peer's signed profile and keeps it when it is
// newer than what is known. from is the peer that sent it.
func (s *Service) ApplyProfile(ctx context.Context, from PeerKey, data, sig []byte) (Person, error) {
	if len(data) > MaxAvatarBytes*2+4096 { // base64 avatar and the rest
		return Person{}, fmt.Errorf("%w: profile of %d bytes", ErrTooLarge, len(data))
	}
	var w profileWire
	if err := json.Unmarshal(data, &w); err != nil {
		return Person{}, fmt.Errorf("%w: profile: %v", ErrBadEvent, err)
	}
	if w.Key != from {
		return Person{}, fmt.Errorf("%w: profile of another peer", ErrBadEvent)
	}
	if err := seal.VerifyProfile(w.Key.Public(), data, sig); err != nil {
		return Person{}, fmt.Errorf("%w: profile: %v", ErrBadSignature, err)
	}
	if w.Handle != "" && CheckHandle(w.Handle) != nil || utf8.RuneCountInString(w.Name) > 64 || utf8.RuneCountInString(w.Bio) > 150 {
		return Person{}, fmt.Errorf("%w: profile fields", ErrBadEvent)
	}
	if err := checkMailboxRef(from, w.Mailbox); err != nil {
		return Person{}, err
	}
	if err := s.keepAvatar(w.Avatar, w.AvatarJPEG); err != nil {
		return Person{}, err
	}
	p, err := s.store.PutPerson(ctx, from, func(p *Person) {
		if w.Version < p.Version {
			return
		}
		if !p.BoxKey.IsZero() && p.BoxKey != w.BoxKey {
			p.KeyChanged = true
		}
		p.BoxKey, p.Handle, p.Name, p.Bio, p.Avatar, p.Version = w.BoxKey, w.Handle, w.Name, w.Bio, w.Avatar, w.Version
		p.Mailbox = w.Mailbox
	})
	if err != nil {
		return p, fmt.Errorf("app: apply profile: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdPeople, Peer: from})
	return p, nil
}

// Safety is the safety number of this device and a peer: the same on
// both sides, for two people to compare in person or by QR code.
type Safety struct {
	Peer       PeerKey `json:"peer"`
	Number     string  `json:"safety_number"`
	KeyChanged bool    `json:"key_changed"`
}

// SafetyNumber is the fingerprint of this device's and peer's identities.
func (s *Service) SafetyNumber(ctx context.Context, peer PeerKey) (Safety, error) {
	p, err := s.Person(ctx, peer)
	if err != nil {
		return Safety{}, err
	}
	return Safety{Peer: peer, Number: seal.SafetyNumber(s.me.Public(), peer.Public()), KeyChanged: p.KeyChanged}, nil
}

// AcknowledgeKey clears the warning that a contact's encryption key
// changed, once the person has compared safety numbers.
func (s *Service) AcknowledgeKey(ctx context.Context, peer PeerKey) error {
	if _, err := s.Person(ctx, peer); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.shared, peer) // recompute with the new key
	s.mu.Unlock()
	return s.putPerson(ctx, peer, func(p *Person) { p.KeyChanged = false })
}
