// Package assets holds Kite's icons, embedded in the binary.
//
// It owns static files only; it must never import anything of ours.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:generate go run icon_png_gen.go

var (
	//go:embed icon.svg
	iconSVG []byte
	//go:embed icon.png
	iconPNG []byte
	//go:embed lock.svg
	lockSVG []byte
	//go:embed pin.svg
	pinSVG []byte
	//go:embed heart.svg
	heartSVG []byte
	//go:embed emoji.svg
	emojiSVG []byte
	//go:embed photo.svg
	photoSVG []byte
	//go:embed mic.svg
	micSVG []byte
)

// Icons. All but Icon and WindowIcon are single-colour SVGs meant to be
// themed (theme.NewThemedResource).
var (
	Icon = fyne.NewStaticResource("kite.svg", iconSVG)
	// WindowIcon is Icon drawn at 256×256 (icon_png_gen.go), for window
	// icons. Given the SVG, Fyne draws it at 512×512 at every start and
	// keeps that 1 MB bitmap in its image cache, to hand the window
	// system a 256×256 copy; a PNG is decoded, handed over and dropped.
	WindowIcon = fyne.NewStaticResource("kite.png", iconPNG)
	Lock       = fyne.NewStaticResource("lock.svg", lockSVG)
	Pin        = fyne.NewStaticResource("pin.svg", pinSVG)
	Heart      = fyne.NewStaticResource("heart.svg", heartSVG)
	Emoji      = fyne.NewStaticResource("emoji.svg", emojiSVG)
	Photo      = fyne.NewStaticResource("photo.svg", photoSVG)
	Mic        = fyne.NewStaticResource("mic.svg", micSVG)
)
