package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"kite/app/media"
)

// Avatars are small JPEGs (AvatarSide pixels at most) kept as blobs and
// carried inside the signed profile, so a peer has a face for someone as
// soon as it has their profile, with no transfer to wait for.
const (
	AvatarSide     = 160
	MaxAvatarBytes = 48 << 10
)

// SetAvatar makes a picture this device's avatar: any photo, scaled down
// and stripped of its metadata.
func (s *Service) SetAvatar(ctx context.Context, picture []byte) (Profile, error) {
	bs := s.Blobs()
	if bs == nil {
		return Profile{}, fmt.Errorf("app: set avatar: no blob store")
	}
	thumb, err := media.Thumbnail(picture, AvatarSide)
	if err != nil {
		return Profile{}, Userf(ErrInvalid, "that picture cannot be used: %s", plainMedia(err))
	}
	if len(thumb) > MaxAvatarBytes {
		return Profile{}, Userf(ErrTooLarge, "that picture is too detailed to use as an avatar")
	}
	h, _, err := bs.Import(bytes.NewReader(thumb))
	if err != nil {
		return Profile{}, fmt.Errorf("app: set avatar: %w", err)
	}
	return s.changeProfile(ctx, func(p *Profile) { p.Avatar = h })
}

// Avatar is the avatar JPEG of key (this device's own too); ErrNotFound
// when there is none.
func (s *Service) Avatar(ctx context.Context, key PeerKey) ([]byte, error) {
	var h Hash
	if key == s.me {
		p, err := s.Profile(ctx)
		if err != nil {
			return nil, err
		}
		h = p.Avatar
	} else {
		p, err := s.store.Person(ctx, key)
		if err != nil {
			return nil, err
		}
		h = p.Avatar
	}
	return s.avatarBytes(h)
}

func (s *Service) avatarBytes(h Hash) ([]byte, error) {
	bs := s.Blobs()
	if h.IsZero() || bs == nil || !bs.Has(h) {
		return nil, ErrNotFound
	}
	b, err := os.ReadFile(bs.Path(h))
	if err != nil {
		return nil, fmt.Errorf("app: read avatar: %w", err)
	}
	if len(b) > MaxAvatarBytes {
		return nil, ErrNotFound
	}
	return b, nil
}

// keepAvatar stores a peer's avatar from its profile; it must hash to
// what the signed profile names.
func (s *Service) keepAvatar(want Hash, jpeg []byte) error {
	bs := s.Blobs()
	if bs == nil || len(jpeg) == 0 || want.IsZero() || bs.Has(want) {
		return nil
	}
	if len(jpeg) > MaxAvatarBytes {
		return fmt.Errorf("%w: avatar of %d bytes", ErrTooLarge, len(jpeg))
	}
	// Checked before anything is stored, so bytes that do not match leave
	// no orphan blob. Importing first and deleting on a mismatch would
	// also delete a blob this device already had, given its bytes.
	if BlobHash(jpeg) != want {
		return fmt.Errorf("%w: avatar does not match the profile", ErrBadEvent)
	}
	h, _, err := bs.Import(bytes.NewReader(jpeg))
	if err != nil {
		return fmt.Errorf("app: keep avatar: %w", err)
	}
	if h != want {
		return fmt.Errorf("app: keep avatar: stored as %x, want %x", h[:6], want[:6])
	}
	return nil
}

func plainMedia(err error) string {
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return "it is too large"
	case errors.Is(err, media.ErrUnsupported):
		return "it is not a picture Kite can read"
	case errors.Is(err, media.ErrCorrupt):
		return "it is damaged or incomplete"
	case errors.Is(err, media.ErrTimeout):
		return "it took too long to read"
	}
	return "it could not be read"
}
