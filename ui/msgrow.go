package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// msgRow draws any chatRow: a day label, a system line, a bubble with its
// quote, name, marks and reactions, a status line or the typing bubble.
type msgRow struct {
	widget.BaseWidget
	v   *convView
	id  int
	row chatRow

	day, name, mark, quoteBy, quoteText, react, status *canvas.Text
	quoteBg, bubbleBg, reactBg, highlight              *canvas.Rectangle
	lines                                              []*canvas.Text
	av                                                 *avatar
	objs                                               []fyne.CanvasObject

	bubbleRect, quoteRect rect
}

// rect is an area of a row, for hit tests.
type rect struct {
	Position fyne.Position
	Size     fyne.Size
}

func newRect(p fyne.Position, s fyne.Size) rect { return rect{p, s} }

func newMsgRow(v *convView) *msgRow {
	r := &msgRow{v: v}
	mk := func(size float32) *canvas.Text { return newText("", color.Black, size, false) }
	r.day, r.name, r.mark, r.quoteBy, r.quoteText, r.react, r.status = mk(chatSmall), mk(chatSmall), mk(chatSmall), mk(chatSmall), mk(chatText), mk(13), mk(chatSmall)
	r.day.Alignment = fyne.TextAlignCenter
	r.quoteBg = canvas.NewRectangle(color.Transparent)
	r.quoteBg.CornerRadius = 16
	r.bubbleBg = canvas.NewRectangle(color.Transparent)
	r.bubbleBg.CornerRadius = 18
	r.reactBg = canvas.NewRectangle(color.Transparent)
	r.reactBg.CornerRadius = 11
	r.highlight = canvas.NewRectangle(color.Transparent)
	r.av = v.u.newAvatar(chatAvatar)
	r.ExtendBaseWidget(r)
	return r
}

// set shows row id.
func (r *msgRow) set(id int, row chatRow) {
	r.id, r.row = id, row
	r.Refresh()
}

func (r *msgRow) CreateRenderer() fyne.WidgetRenderer { return &msgRowRenderer{r: r} }

func (r *msgRow) MinSize() fyne.Size { return fyne.NewSize(100, r.row.h) }

func (r *msgRow) inBubble(p fyne.Position) bool {
	b := r.bubbleRect
	return r.row.kind == rowMsg && p.X >= b.Position.X && p.X <= b.Position.X+b.Size.Width && p.Y >= b.Position.Y && p.Y <= b.Position.Y+b.Size.Height
}

func (r *msgRow) inQuote(p fyne.Position) bool {
	b := r.quoteRect
	return r.row.quote != "" && p.X >= b.Position.X && p.X <= b.Position.X+b.Size.Width && p.Y >= b.Position.Y && p.Y <= b.Position.Y+b.Size.Height
}

// Tapped on a reply quote jumps to the original.
func (r *msgRow) Tapped(e *fyne.PointEvent) {
	if r.inQuote(e.Position) {
		r.v.jumpToQuote(r.row)
	}
}

// DoubleTapped on a bubble sends ❤.
func (r *msgRow) DoubleTapped(e *fyne.PointEvent) {
	if r.inBubble(e.Position) || r.row.kind == rowMsg {
		r.v.heart(r.row)
	}
}

// TappedSecondary opens the message menu.
func (r *msgRow) TappedSecondary(e *fyne.PointEvent) {
	if r.row.kind == rowMsg {
		r.v.messageMenu(r.row, e.AbsolutePosition)
	}
}

type msgRowRenderer struct{ r *msgRow }

func (rr *msgRowRenderer) Destroy()                     {}
func (rr *msgRowRenderer) MinSize() fyne.Size           { return rr.r.MinSize() }
func (rr *msgRowRenderer) Objects() []fyne.CanvasObject { return rr.r.objs }

func (rr *msgRowRenderer) Refresh() {
	r := rr.r
	rr.Layout(r.Size())
	for _, o := range r.objs {
		o.Refresh()
	}
}

func place(o fyne.CanvasObject, x, y, w, h float32) {
	o.Move(fyne.NewPos(x, y))
	o.Resize(fyne.NewSize(w, h))
}

func (rr *msgRowRenderer) Layout(s fyne.Size) {
	r := rr.r
	v := r.v
	row := r.row
	u := v.u
	p := paletteFor(u.app)
	r.objs = r.objs[:0]
	r.bubbleRect, r.quoteRect = rect{}, rect{}
	lineH := fyne.MeasureText("Ag", chatText, fyne.TextStyle{}).Height
	setText := func(t *canvas.Text, s string, c color.Color) {
		t.Text, t.Color = s, c
		t.TextStyle = fyne.TextStyle{}
	}
	switch row.kind {
	case rowDay, rowSystem:
		setText(r.day, row.text, p.muted)
		r.day.TextSize = chatSmall
		if row.kind == rowSystem {
			r.day.TextSize = 12.5
		}
		place(r.day, 0, (s.Height-smallLineH)/2, s.Width, smallLineH)
		r.objs = append(r.objs, r.day)
		return
	case rowStatus:
		setText(r.status, row.text, p.muted)
		r.status.Alignment = fyne.TextAlignTrailing
		place(r.status, 0, 0, s.Width-sideMargin-4, smallLineH)
		r.objs = append(r.objs, r.status)
		return
	case rowTyping:
		x := float32(sideMargin + chatAvatar + avatarGap)
		w := float32(64)
		r.bubbleBg.FillColor = p.other
		r.bubbleBg.StrokeWidth = 0
		place(r.bubbleBg, x, runGap, w, lineH+2*bubblePadY)
		t := r.line(0)
		setText(t, "• • •", p.muted)
		t.TextStyle = fyne.TextStyle{Bold: true}
		place(t, x+bubblePadX+4, runGap+bubblePadY, w, lineH)
		r.objs = append(r.objs, r.bubbleBg, t)
		return
	}
	if row.msg >= len(v.msgs) {
		return
	}
	m := v.msgs[row.msg]
	y := float32(0)
	if row.first {
		y += runGap
	}
	left := float32(sideMargin + chatAvatar + avatarGap)
	bx := left
	if row.mine {
		bx = s.Width - sideMargin - row.bubbleW
	}
	if v.highlight == m.ID {
		r.highlight.FillColor = color.NRGBA{R: 0x00, G: 0x95, B: 0xf6, A: 0x22}
		place(r.highlight, 0, 0, s.Width, s.Height)
		r.objs = append(r.objs, r.highlight)
	}
	if row.showName {
		setText(r.name, u.name(m.Author), p.muted)
		place(r.name, left+bubblePadX, y, s.Width, nameH)
		r.objs = append(r.objs, r.name)
		y += nameH
	}
	if row.quote != "" {
		setText(r.quoteBy, row.quoteBy, p.muted)
		qw := fyne.MeasureText(row.quote, chatText, fyne.TextStyle{}).Width + 2*bubblePadX
		qx := bx
		if row.mine {
			qx = s.Width - sideMargin - qw
			r.quoteBy.Alignment = fyne.TextAlignTrailing
			place(r.quoteBy, 0, y, s.Width-sideMargin-4, quoteLabelH)
		} else {
			r.quoteBy.Alignment = fyne.TextAlignLeading
			place(r.quoteBy, qx+4, y, s.Width, quoteLabelH)
		}
		y += quoteLabelH
		r.quoteBg.FillColor = p.other
		r.quoteBg.StrokeWidth = 0
		qh := lineH + 2*bubblePadY
		place(r.quoteBg, qx, y, qw, qh)
		setText(r.quoteText, row.quote, p.muted)
		place(r.quoteText, qx+bubblePadX, y+bubblePadY, qw, lineH)
		r.quoteRect = newRect(fyne.NewPos(qx, y), fyne.NewSize(qw, qh))
		r.objs = append(r.objs, r.quoteBy, r.quoteBg, r.quoteText)
		y += qh + quoteGap
	}
	if row.edited || row.fwd {
		label := "Edited"
		if row.fwd {
			label = "Forwarded"
			if row.edited {
				label = "Forwarded · Edited"
			}
		}
		setText(r.mark, label, p.muted)
		if row.mine {
			r.mark.Alignment = fyne.TextAlignTrailing
			place(r.mark, 0, y, s.Width-sideMargin-6, smallLineH)
		} else {
			r.mark.Alignment = fyne.TextAlignLeading
			place(r.mark, bx+6, y, s.Width, smallLineH)
		}
		r.objs = append(r.objs, r.mark)
		y += smallLineH
	}
	bh := bubbleHeight(row, lineH)
	fg := p.fg
	switch {
	case row.block != nil:
		// Pictures and cards sit on a neutral bubble on both sides.
		r.bubbleBg.FillColor = p.other
		r.bubbleBg.StrokeWidth = 0
	case row.italic:
		r.bubbleBg.FillColor = color.Transparent
		r.bubbleBg.StrokeColor = p.sep
		r.bubbleBg.StrokeWidth = 1
		fg = p.muted
	case row.mine:
		r.bubbleBg.FillColor = chatColour(v.c.Theme)
		r.bubbleBg.StrokeWidth = 0
		fg = color.White
	default:
		r.bubbleBg.FillColor = p.other
		r.bubbleBg.StrokeWidth = 0
	}
	place(r.bubbleBg, bx, y, row.bubbleW, bh)
	r.bubbleRect = newRect(fyne.NewPos(bx, y), fyne.NewSize(row.bubbleW, bh))
	r.objs = append(r.objs, r.bubbleBg)
	textY := y + bubblePadY
	if b := row.block; b != nil {
		in := b.inset()
		place(b.root, bx+in, y+in, b.size.Width, b.size.Height)
		if b.kind == blockPhoto && row.mine {
			place(b.root, bx+row.bubbleW-b.size.Width, y, b.size.Width, b.size.Height)
		}
		r.objs = append(r.objs, b.root)
		textY = y + in + b.size.Height + bubblePadY/2
	}
	for i, l := range row.lines {
		t := r.line(i)
		setText(t, l, fg)
		t.TextStyle = fyne.TextStyle{Italic: row.italic}
		place(t, bx+bubblePadX, textY+float32(i)*lineH, row.bubbleW, lineH)
		r.objs = append(r.objs, t)
	}
	if !row.mine && row.last {
		r.av.set(m.Author[:], u.name(m.Author), false)
		place(r.av, sideMargin, y+bh-chatAvatar, chatAvatar, chatAvatar)
		r.objs = append(r.objs, r.av)
	}
	y += bh
	if row.react != "" {
		setText(r.react, row.react, p.fg)
		w := fyne.MeasureText(row.react, 13, fyne.TextStyle{}).Width + 16
		rx := bx + 8
		if row.mine {
			rx = bx + row.bubbleW - w - 8
		}
		r.reactBg.FillColor = p.other
		r.reactBg.StrokeColor = p.bg
		r.reactBg.StrokeWidth = 2
		place(r.reactBg, rx, y-4, w, reactH-2)
		place(r.react, rx+8, y-4+(reactH-2-smallLineH)/2-1, w, smallLineH)
		r.objs = append(r.objs, r.reactBg, r.react)
	}
}

// line returns the i-th pooled text line.
func (r *msgRow) line(i int) *canvas.Text {
	for len(r.lines) <= i {
		r.lines = append(r.lines, newText("", color.Black, chatText, false))
	}
	t := r.lines[i]
	t.TextSize = chatText
	return t
}
