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

// avatarCacheSize bounds the pictures kept decoded: a few screens' worth.
// Unbounded, scrolling through the chats of thousands of people would
// keep every picture (up to 192×192 each) for as long as Kite runs.
const avatarCacheSize = 128

// avatarCache holds decoded profile pictures by peer, read through the
// service's Avatars when it has them, the least recently shown dropped
// first. On the UI thread only.
type avatarCache struct {
	u    *UI
	imgs map[app.PeerKey]*cachedAvatar
	used uint64 // counts lookups, to order the entries by last use
	// waiting are the circles to redraw when a key's picture arrives.
	waiting map[app.PeerKey][]*avatar
}

type cachedAvatar struct {
	img  image.Image // nil: no picture
	used uint64
}

func newAvatarCache(u *UI) *avatarCache {
	return &avatarCache{u: u, imgs: make(map[app.PeerKey]*cachedAvatar), waiting: make(map[app.PeerKey][]*avatar)}
}

// put keeps k's picture, dropping the least recently used one when full.
func (c *avatarCache) put(k app.PeerKey, img image.Image) {
	c.used++
	c.imgs[k] = &cachedAvatar{img: img, used: c.used}
	if len(c.imgs) <= avatarCacheSize {
		return
	}
	var oldest app.PeerKey
	least := c.used
	for key, e := range c.imgs {
		if e.used < least {
			oldest, least = key, e.used
		}
	}
	delete(c.imgs, oldest)
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
	if e, ok := c.imgs[k]; ok {
		c.used++
		e.used = c.used
		return e.img
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
			c.put(k, img)
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
		c.imgs = make(map[app.PeerKey]*cachedAvatar)
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
