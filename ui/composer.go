package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
)

// chatEntry is a multi-line entry where Enter sends and Shift+Enter
// starts a new line.
type chatEntry struct {
	widget.Entry
	shift  bool
	onSend func()
}

func newChatEntry() *chatEntry {
	e := &chatEntry{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	e.SetMinRowsVisible(1)
	return e
}

func (e *chatEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == "LeftShift" || k.Name == "RightShift" {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

func (e *chatEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == "LeftShift" || k.Name == "RightShift" {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

func (e *chatEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift {
		if e.onSend != nil {
			e.onSend()
		}
		return
	}
	e.Entry.TypedKey(k)
}

// composer writes, replies to and edits messages.
type composer struct {
	v       *convView
	root    fyne.CanvasObject
	entry   *chatEntry
	send    *widget.Button
	heartBt *widget.Button
	attach  *widget.Button
	mic     *widget.Button
	box     *fyne.Container // the entry and its buttons
	count   *widget.Label
	banner  *fyne.Container
	bannerT *widget.Label
	bannerQ *widget.Label

	reply   app.EventID
	editing app.EventID
	typing  bool
	idle    *time.Timer
	idleGen int

	voice // recording a voice message
}

func newComposer(v *convView) *composer {
	c := &composer{v: v}
	c.entry = newChatEntry()
	c.entry.SetPlaceHolder("Message…")
	c.entry.onSend = c.submit
	c.entry.OnChanged = c.changed
	c.send = widget.NewButton("Send", c.submit)
	c.send.Importance = widget.LowImportance
	c.send.Hide()
	c.heartBt = iconButton(theme.NewThemedResource(heartIcon), func() { c.sendText("❤️") })
	emoji := iconButton(theme.NewThemedResource(emojiIcon), c.showEmoji)
	c.attach = iconButton(theme.NewThemedResource(photoIcon), c.showAttach)
	c.mic = iconButton(theme.NewThemedResource(micIcon), c.startVoice)
	c.count = caption("")
	c.count.Hide()
	c.bannerT = widget.NewLabel("")
	c.bannerT.TextStyle = fyne.TextStyle{Bold: true}
	c.bannerT.SizeName = theme.SizeNameCaptionText
	c.bannerQ = caption("")
	c.bannerQ.Wrapping = fyne.TextWrapOff
	c.bannerQ.Truncation = fyne.TextTruncateEllipsis
	cancel := iconButton(theme.CancelIcon(), c.cancelBanner)
	c.banner = container.NewBorder(nil, nil, nil, container.NewCenter(cancel), compactVBox(c.bannerT, c.bannerQ))
	c.banner.Hide()
	right := container.NewHBox(c.count, c.attach, c.mic, c.heartBt, c.send)
	c.box = container.NewBorder(nil, nil, container.NewCenter(emoji), container.NewCenter(right), c.entry)
	c.recBar = c.newRecordBar()
	c.recBar.Hide()
	c.root = container.NewVBox(container.NewPadded(c.banner), container.NewPadded(container.NewStack(c.box, c.recBar)))
	return c
}

func (c *composer) reset() {
	c.cancelVoice()
	c.reply, c.editing = app.EventID{}, app.EventID{}
	c.entry.SetText("")
	c.banner.Hide()
}

func (c *composer) changed(s string) {
	has := strings.TrimSpace(s) != ""
	if has {
		c.send.Show()
		c.heartBt.Hide()
		c.mic.Hide()
	} else {
		c.send.Hide()
		c.heartBt.Show()
		c.mic.Show()
	}
	if r := remaining(s); r != "" {
		c.count.SetText(r)
		c.count.Show()
	} else {
		c.count.Hide()
	}
	rows := strings.Count(s, "\n") + 1
	c.entry.SetMinRowsVisible(min(max(rows, 1), 5))
	if has && c.editing.IsZero() {
		c.startTyping()
	} else if !has {
		c.stopTyping()
	}
}

// startTyping signals typing, and stops after 3 s without a keystroke.
func (c *composer) startTyping() {
	u := c.v.u
	id := c.v.id
	if !c.typing {
		c.typing = true
		u.svc.SetTyping(id, true)
	}
	c.idleGen++
	gen := c.idleGen
	if c.idle != nil {
		c.idle.Stop()
	}
	c.idle = time.AfterFunc(3*time.Second, func() {
		c.v.u.do(func() {
			if gen == c.idleGen {
				c.stopTyping()
			}
		})
	})
}

func (c *composer) stopTyping() {
	if c.idle != nil {
		c.idle.Stop()
	}
	if c.typing {
		c.typing = false
		c.v.u.svc.SetTyping(c.v.id, false)
	}
}

func (c *composer) replyTo(m app.Message) {
	c.editing = app.EventID{}
	c.reply = m.ID
	who := c.v.u.name(m.Author)
	if m.Author == c.v.u.me {
		who = "yourself"
	}
	text, _ := messageText(m, m.Author == c.v.u.me, who)
	c.bannerT.SetText("Replying to " + who)
	c.bannerQ.SetText(ellipsize(oneLine(text), 90))
	c.banner.Show()
	c.focus()
}

func (c *composer) edit(m app.Message) {
	c.reply = app.EventID{}
	c.editing = m.ID
	c.bannerT.SetText("Editing message")
	c.bannerQ.SetText(ellipsize(oneLine(m.Text), 90))
	c.banner.Show()
	c.entry.SetText(m.Text)
	c.focus()
}

func (c *composer) cancelBanner() {
	if !c.editing.IsZero() {
		c.entry.SetText("")
	}
	c.reply, c.editing = app.EventID{}, app.EventID{}
	c.banner.Hide()
}

func (c *composer) focus() {
	if w := c.v.u.win; w != nil {
		w.Canvas().Focus(c.entry)
	}
}

// submit sends, replies or saves the edit.
func (c *composer) submit() {
	text := c.entry.Text
	if strings.TrimSpace(text) == "" {
		return
	}
	c.sendText(text)
}

func (c *composer) sendText(text string) {
	u := c.v.u
	conv, reply, editing := c.v.id, c.reply, c.editing
	c.stopTyping()
	c.entry.SetText("")
	c.reply, c.editing = app.EventID{}, app.EventID{}
	c.banner.Hide()
	restore := func() {
		if c.v.id == conv && c.entry.Text == "" {
			c.entry.SetText(text)
		}
	}
	u.async("send the message", func(ctx context.Context) (func(), error) {
		var err error
		if !editing.IsZero() {
			_, err = u.svc.Edit(ctx, editing, text)
		} else {
			_, err = u.svc.SendText(ctx, conv, text, reply)
		}
		if err != nil {
			c.v.u.do(restore)
			return nil, err
		}
		return func() {
			if c.v.id == conv {
				c.v.pill.Hide()
				c.v.load(false)
				c.v.list.ScrollToBottom()
			}
		}, nil
	})
}

var emojis = []string{
	"😀", "😂", "🥲", "😍", "🥰", "😘", "😎", "🤔",
	"😮", "😢", "😭", "😡", "🙏", "👍", "👎", "👏",
	"🙌", "💪", "🎉", "🔥", "✨", "❤️", "💔", "💯",
	"😅", "😉", "🙂", "🤗", "😴", "🤯", "👀", "✅",
}

// showEmoji opens a small emoji grid above the composer.
func (c *composer) showEmoji() {
	u := c.v.u
	if u.win == nil {
		return
	}
	var pop *widget.PopUp
	grid := container.NewGridWithColumns(8)
	for _, e := range emojis {
		e := e
		b := widget.NewButton(e, func() {
			c.entry.SetText(c.entry.Text + e)
			pop.Hide()
			c.focus()
		})
		b.Importance = widget.LowImportance
		grid.Add(b)
	}
	pop = widget.NewPopUp(container.NewPadded(grid), u.win.Canvas())
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.entry)
	size := pop.MinSize()
	pop.ShowAtPosition(fyne.NewPos(pos.X, pos.Y-size.Height-8))
}
