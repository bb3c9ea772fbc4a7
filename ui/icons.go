package ui

import "kite/assets"

var (
	lockIcon  = assets.Lock
	pinIcon   = assets.Pin
	heartIcon = assets.Heart
	emojiIcon = assets.Emoji
	photoIcon = assets.Photo
	micIcon   = assets.Mic
)
