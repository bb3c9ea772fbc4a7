package ui

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"

	"kite/app"
	"kite/app/media"
)

// avatarSide is the side of a decoded profile picture: enough for the
// largest circle on a HiDPI screen.
const avatarSide = 192

// avatarCache holds decoded profile pictures by peer, read through the
// service's Avatars when it has them. On the UI thread only.
type avatarCache struct {
	u    *UI
	imgs map[app.PeerKey]image.Image // nil: no picture
	// waiting are the circles to redraw when a key's picture arrives.
	waiting map[app.PeerKey][]*avatar
}

func newAvatarCache(u *UI) *avatarCache {
	return &avatarCache{u: u, imgs: make(map[app.PeerKey]image.Image), waiting: make(map[app.PeerKey][]*avatar)}
}

// newAvatar is a circle that shows profile pictures from the cache.
func (u *UI) newAvatar(size float32) *avatar {
	a := newAvatar(size)
	a.cache = u.avatars
	return a
}

// lookup returns key's picture if it is known, and asks for it
// otherwise; a is redrawn when it arrives.
func (c *avatarCache) lookup(key []byte, a *avatar) image.Image {
	if len(key) != len(app.PeerKey{}) {
		return nil
	}
	var k app.PeerKey
	copy(k[:], key)
	if img, ok := c.imgs[k]; ok {
		return img
	}
	av, ok := c.u.svc.(Avatars)
	if !ok {
		return nil
	}
	if w, asked := c.waiting[k]; asked {
		c.waiting[k] = append(w, a)
		return nil
	}
	c.waiting[k] = []*avatar{a}
	c.u.async("read a profile picture", func(ctx context.Context) (func(), error) {
		data, err := av.Avatar(ctx, k)
		var img image.Image
		if err == nil && len(data) > 0 {
			img = decodeAvatar(data)
		}
		return func() {
			c.imgs[k] = img
			for _, a := range c.waiting[k] {
				if bytes.Equal(a.key, k[:]) {
					a.Refresh()
				}
			}
			delete(c.waiting, k)
		}, nil
	})
	return nil
}

// forget drops key's picture (its profile changed); the zero key drops
// them all.
func (c *avatarCache) forget(k app.PeerKey) {
	if k.IsZero() {
		c.imgs = make(map[app.PeerKey]image.Image)
		return
	}
	delete(c.imgs, k)
}

// decodeAvatar decodes a profile picture, bounded as photos are, and
// makes it small.
func decodeAvatar(data []byte) image.Image {
	small, err := media.Thumbnail(data, avatarSide)
	if err != nil {
		return nil
	}
	img, err := jpeg.Decode(bytes.NewReader(small))
	if err != nil {
		return nil
	}
	return img
}
