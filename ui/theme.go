package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// kiteTheme is a calm, Instagram-like look over Fyne's default theme. Mode
// is "light", "dark" or "system" (the variant Fyne asks for).
type kiteTheme struct {
	mode string
}

var _ fyne.Theme = (*kiteTheme)(nil)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

var (
	kiteBlue     = rgb(0x00, 0x95, 0xf6)
	bubbleBlue   = rgb(0x37, 0x97, 0xf0)
	lightBG      = rgb(0xff, 0xff, 0xff)
	lightFG      = rgb(0x26, 0x26, 0x26)
	lightMuted   = rgb(0x73, 0x73, 0x73)
	lightInput   = rgb(0xef, 0xef, 0xef)
	lightSep     = rgb(0xdb, 0xdb, 0xdb)
	lightHover   = rgb(0xf5, 0xf5, 0xf5)
	lightOther   = rgb(0xef, 0xef, 0xef)
	darkFG       = rgb(0xf5, 0xf5, 0xf5)
	darkMuted    = rgb(0xa8, 0xa8, 0xa8)
	darkInput    = rgb(0x26, 0x26, 0x26)
	darkSep      = rgb(0x26, 0x26, 0x26)
	darkHover    = rgb(0x12, 0x12, 0x12)
	darkOther    = rgb(0x26, 0x26, 0x26)
	unreadDot    = rgb(0x00, 0x95, 0xf6)
	presenceDot  = rgb(0x1c, 0xd1, 0x4f)
	transparentC = color.NRGBA{}
)

func (t *kiteTheme) variant(v fyne.ThemeVariant) fyne.ThemeVariant {
	switch t.mode {
	case "light":
		return theme.VariantLight
	case "dark":
		return theme.VariantDark
	}
	return v
}

func (t *kiteTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	v = t.variant(v)
	dark := v == theme.VariantDark
	pick := func(light, dk color.Color) color.Color {
		if dark {
			return dk
		}
		return light
	}
	switch n {
	case theme.ColorNameBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground, theme.ColorNameHeaderBackground:
		return pick(lightBG, rgb(0x0c, 0x0c, 0x0c))
	case theme.ColorNameForeground:
		return pick(lightFG, darkFG)
	case theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNameFocus:
		return kiteBlue
	case theme.ColorNameInputBackground:
		return pick(lightInput, darkInput)
	case theme.ColorNameInputBorder:
		return pick(rgb(0xc7, 0xc7, 0xc7), rgb(0x55, 0x55, 0x55))
	case theme.ColorNameSeparator:
		return pick(lightSep, darkSep)
	case theme.ColorNameHover:
		return pick(lightHover, rgb(0x1a, 0x1a, 0x1a))
	case theme.ColorNamePressed:
		return pick(rgb(0xe8, 0xe8, 0xe8), rgb(0x2a, 0x2a, 0x2a))
	case theme.ColorNameSelection:
		return pick(rgb(0xef, 0xef, 0xef), rgb(0x26, 0x26, 0x26))
	case theme.ColorNameButton:
		return pick(lightInput, darkInput)
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled:
		return pick(lightMuted, darkMuted)
	case theme.ColorNameScrollBar:
		return pick(color.NRGBA{A: 0x40}, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x40})
	case theme.ColorNameShadow:
		return pick(color.NRGBA{A: 0x22}, color.NRGBA{A: 0x88})
	}
	return theme.DefaultTheme().Color(n, v)
}

func (t *kiteTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (t *kiteTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *kiteTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 14
	case theme.SizeNameCaptionText:
		return 12
	case theme.SizeNameInputRadius, theme.SizeNameButtonRadius:
		return 10
	case theme.SizeNameSelectionRadius:
		return 8
	case theme.SizeNameSeparatorThickness:
		return 1
	case theme.SizeNameInputBorder:
		return 1
	case theme.SizeNameScrollBarSmall:
		return 3
	}
	return theme.DefaultTheme().Size(n)
}

// dark reports whether the app currently paints dark.
func isDark(a fyne.App) bool {
	if a == nil {
		return false
	}
	return a.Settings().ThemeVariant() == theme.VariantDark || currentMode(a) == "dark"
}

func currentMode(a fyne.App) string {
	if t, ok := a.Settings().Theme().(*kiteTheme); ok {
		return t.mode
	}
	return "system"
}

// palette is what a painted widget needs of the theme right now.
type palette struct {
	fg, muted, bg, other, sep, hover color.Color
}

func paletteFor(a fyne.App) palette {
	if isDark(a) {
		return palette{fg: darkFG, muted: darkMuted, bg: rgb(0x0c, 0x0c, 0x0c), other: darkOther, sep: darkSep, hover: darkHover}
	}
	return palette{fg: lightFG, muted: lightMuted, bg: lightBG, other: lightOther, sep: lightSep, hover: lightHover}
}

// chatColour is the colour of one's own bubbles in a chat theme.
func chatColour(name string) color.NRGBA {
	switch name {
	case "ocean":
		return rgb(0x00, 0x7a, 0xa3)
	case "sunset":
		return rgb(0xf5, 0x60, 0x40)
	case "forest":
		return rgb(0x2e, 0x8b, 0x57)
	case "berry":
		return rgb(0xc1, 0x35, 0x84)
	case "mono":
		return rgb(0x3a, 0x3a, 0x3a)
	}
	return bubbleBlue
}
