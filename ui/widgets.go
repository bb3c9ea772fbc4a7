package ui

import (
	"image"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// avatar is an initials circle in a colour derived from the peer key,
// with an optional presence dot.
type avatar struct {
	widget.BaseWidget
	size   float32
	circle *canvas.Circle
	text   *canvas.Text
	ring   *canvas.Circle
	dot    *canvas.Circle
	online bool
	// cache, when set, gives the profile picture of key, shown instead
	// of the initials.
	cache *avatarCache
	key   []byte
	pic   *canvas.Image
}

func newAvatar(size float32) *avatar {
	a := &avatar{size: size}
	a.circle = canvas.NewCircle(avatarColours[0])
	a.text = canvas.NewText("", color.White)
	a.text.TextStyle = fyne.TextStyle{Bold: true}
	a.text.TextSize = size * 0.38
	a.text.Alignment = fyne.TextAlignCenter
	a.ring = canvas.NewCircle(lightBG)
	a.dot = canvas.NewCircle(presenceDot)
	a.pic = canvas.NewImageFromImage(nil)
	a.pic.FillMode = canvas.ImageFillCover
	a.pic.ScaleMode = canvas.ImageScaleSmooth
	a.pic.Hide()
	a.ExtendBaseWidget(a)
	return a
}

// set shows name's initials in key's colour.
func (a *avatar) set(key []byte, name string, online bool) {
	a.circle.FillColor = avatarColour(key)
	a.text.Text = initials(name)
	a.key = append(a.key[:0], key...)
	a.online = online
	a.Refresh()
}

func (a *avatar) MinSize() fyne.Size { return fyne.NewSquareSize(a.size) }

func (a *avatar) CreateRenderer() fyne.WidgetRenderer {
	return &avatarRenderer{a: a}
}

type avatarRenderer struct{ a *avatar }

func (r *avatarRenderer) Layout(s fyne.Size) {
	a := r.a
	d := fyne.Min(s.Width, s.Height)
	a.circle.Resize(fyne.NewSquareSize(d))
	a.circle.Move(fyne.NewPos((s.Width-d)/2, (s.Height-d)/2))
	a.pic.Resize(fyne.NewSquareSize(d))
	a.pic.Move(fyne.NewPos((s.Width-d)/2, (s.Height-d)/2))
	a.pic.CornerRadius = d / 2
	ts := fyne.MeasureText(a.text.Text, a.text.TextSize, a.text.TextStyle)
	a.text.Resize(fyne.NewSize(d, ts.Height))
	a.text.Move(fyne.NewPos((s.Width-d)/2, (s.Height-ts.Height)/2))
	dd := d * 0.30
	a.ring.Resize(fyne.NewSquareSize(dd + 4))
	a.ring.Move(fyne.NewPos(s.Width-dd-3, s.Height-dd-3))
	a.dot.Resize(fyne.NewSquareSize(dd))
	a.dot.Move(fyne.NewPos(s.Width-dd-1, s.Height-dd-1))
}
func (r *avatarRenderer) MinSize() fyne.Size { return r.a.MinSize() }
func (r *avatarRenderer) Refresh() {
	r.a.ring.FillColor = paletteFor(fyne.CurrentApp()).bg
	r.a.ring.Hidden = !r.a.online
	r.a.dot.Hidden = !r.a.online
	var img image.Image
	if r.a.cache != nil {
		img = r.a.cache.lookup(r.a.key, r.a)
	}
	if img != nil {
		r.a.pic.Image = img
		r.a.pic.Show()
		r.a.text.Hide()
	} else {
		r.a.pic.Image = nil
		r.a.pic.Hide()
		r.a.text.Show()
	}
	r.a.pic.Refresh()
	r.Layout(r.a.Size())
	canvas.Refresh(r.a)
}
func (r *avatarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.a.circle, r.a.text, r.a.pic, r.a.ring, r.a.dot}
}
func (r *avatarRenderer) Destroy() {}

// dot is a small filled circle.
func newDot(c color.Color, size float32) fyne.CanvasObject {
	d := canvas.NewCircle(c)
	return container.NewGridWrap(fyne.NewSquareSize(size), d)
}

// fixedWidth lays out one object at a fixed width and the full height.
type fixedWidth struct{ w float32 }

func (f fixedWidth) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	for _, o := range objs {
		o.Resize(s)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (f fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = fyne.Max(h, o.MinSize().Height)
	}
	return fyne.NewSize(f.w, h)
}

func withWidth(w float32, o fyne.CanvasObject) *fyne.Container {
	return container.New(fixedWidth{w}, o)
}

// minHeight makes a container at least h high.
type minHeight struct{ h float32 }

func (m minHeight) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	for _, o := range objs {
		o.Resize(s)
		o.Move(fyne.NewPos(0, 0))
	}
}
func (m minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var out fyne.Size
	for _, o := range objs {
		out = out.Max(o.MinSize())
	}
	out.Height = fyne.Max(out.Height, m.h)
	return out
}

func withHeight(h float32, o ...fyne.CanvasObject) *fyne.Container {
	return container.New(minHeight{h}, o...)
}

// text makes a label-like canvas text.
func newText(s string, c color.Color, size float32, bold bool) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size
	t.TextStyle = fyne.TextStyle{Bold: bold}
	return t
}

// tapArea makes any object tappable, with hover highlight.
type tapArea struct {
	widget.BaseWidget
	content  fyne.CanvasObject
	bg       *canvas.Rectangle
	onTap    func()
	onSecond func(*fyne.PointEvent)
	hovered  bool
	selected bool
	noHover  bool
	radius   float32
}

func newTapArea(content fyne.CanvasObject, onTap func()) *tapArea {
	t := &tapArea{content: content, onTap: onTap, bg: canvas.NewRectangle(transparentC)}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapArea) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

func (t *tapArea) TappedSecondary(e *fyne.PointEvent) {
	if t.onSecond != nil {
		t.onSecond(e)
	}
}

func (t *tapArea) MouseIn(*fyne.PointEvent)    { t.hovered = true; t.paint() }
func (t *tapArea) MouseMoved(*fyne.PointEvent) {}
func (t *tapArea) MouseOut()                   { t.hovered = false; t.paint() }

func (t *tapArea) setSelected(on bool) {
	if t.selected != on {
		t.selected = on
		t.paint()
	}
}

func (t *tapArea) paint() {
	p := paletteFor(fyne.CurrentApp())
	switch {
	case t.selected:
		t.bg.FillColor = p.other
	case t.hovered && !t.noHover:
		t.bg.FillColor = p.hover
	default:
		t.bg.FillColor = transparentC
	}
	t.bg.CornerRadius = t.radius
	t.bg.Refresh()
}

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(t.bg, t.content))
}

// iconButton is a flat icon button.
func iconButton(res fyne.Resource, tap func()) *widget.Button {
	b := widget.NewButtonWithIcon("", res, tap)
	b.Importance = widget.LowImportance
	return b
}

// primaryButton is a blue filled button.
func primaryButton(label string, tap func()) *widget.Button {
	b := widget.NewButton(label, tap)
	b.Importance = widget.HighImportance
	return b
}

// heading is a bold text line.
func heading(s string, size float32) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.SizeName = theme.SizeNameSubHeadingText
	if size <= 14 {
		l.SizeName = theme.SizeNameText
	}
	return l
}

// caption is a muted small label.
func caption(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	l.Importance = widget.LowImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}

// wrapLines breaks text into lines no wider than width at the given text
// size, breaking at spaces where it can and inside long words where it
// must. Explicit newlines are kept. It also returns the widest line's
// width.
//
// Shaping text is what costs (a conversation wraps every message it
// shows, and Fyne caches the width of each string it has measured), so
// lines are filled from the widths of words, which repeat, and each line
// is measured once as a whole: that corrects what kerning across spaces
// changes.
func wrapLines(text string, size, width float32, style fyne.TextStyle) ([]string, float32) {
	measure := func(s string) float32 { return fyne.MeasureText(s, size, style).Width }
	var out []string
	var widest float32
	add := func(line string, w float32) {
		out = append(out, line)
		widest = max(widest, w)
	}
	space := measure("x x") - measure("xx")
	for _, para := range strings.Split(text, "\n") {
		if para == "" {
			add("", 0)
			continue
		}
		words := strings.Split(para, " ")
		est := space * float32(len(words)-1)
		for _, w := range words {
			est += measure(w)
		}
		if est <= width {
			if w := measure(para); w <= width {
				add(para, w)
				continue
			}
		}
		for i := 0; i < len(words); {
			// A word wider than the line is cut by runes.
			wi := measure(words[i])
			for wi > width {
				r := []rune(words[i])
				n := fitRunes(r, width, measure)
				add(string(r[:n]), measure(string(r[:n])))
				words[i] = string(r[n:])
				wi = measure(words[i])
			}
			j, est := i+1, wi
			for j < len(words) {
				wj := measure(words[j])
				if est+space+wj > width {
					break
				}
				est += space + wj
				j++
			}
			line := strings.TrimRight(strings.Join(words[i:j], " "), " ")
			w := measure(line)
			for w > width && j > i+1 {
				j--
				line = strings.TrimRight(strings.Join(words[i:j], " "), " ")
				w = measure(line)
			}
			add(line, w)
			i = j
		}
	}
	return out, widest
}

// fitRunes is how many of r's first runes fit in width (at least one),
// found by bisection.
func fitRunes(r []rune, width float32, measure func(string) float32) int {
	lo, hi := 1, len(r) // r[:lo] is kept even if too wide; r[:hi+1] is too wide
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if measure(string(r[:mid])) <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
