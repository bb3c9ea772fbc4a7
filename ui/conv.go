package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
)

const pageSize = 50

// convView is the right pane's conversation: header, message list over a
// page cache, and the composer (or the request bar).
type convView struct {
	u    *UI
	root fyne.CanvasObject
	// openedAt is when open was asked for, to log how long the newest
	// page took to show (KITE_LOG=info; the benchmark reads it).
	openedAt time.Time

	av      *avatar
	title   *widget.Label
	sub     *widget.Label
	lock    *widget.Icon
	list    *widget.List
	pill    *widget.Button
	notice  *widget.Label
	bottom  *fyne.Container
	compose *composer
	accept  *widget.Button // of the request bar, for tests

	// Page cache and rows, on the UI thread only.
	id      app.ConvID
	c       app.Conversation
	members []app.Member
	msgs    []app.Message
	quotes  map[app.EventID]app.Message
	media   map[app.EventID]*mediaView // blocks of media and share messages
	rows    []chatRow
	// sizing hides the rows from the list while setHeights runs; stub is
	// the row template the list measures meanwhile.
	sizing      bool
	stub        *msgRow
	rebuilding  bool // rows are being laid out again: see rebuild
	width       float32
	hasOlder    bool
	loading     bool
	ready       bool
	gen         int
	highlight   app.EventID
	pendingJump app.EventID
	jumpPages   int
}

func newConvView(u *UI) *convView {
	v := &convView{u: u, quotes: make(map[app.EventID]app.Message), media: make(map[app.EventID]*mediaView)}
	v.av = u.newAvatar(40)
	v.title = heading("", 15)
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.sub = caption("")
	v.sub.Wrapping = fyne.TextWrapOff
	v.lock = widget.NewIcon(theme.NewThemedResource(lockIcon))
	info := iconButton(theme.InfoIcon(), func() {
		if u.page == "info" {
			u.setRight("chat", v.root)
		} else {
			u.showInfo()
		}
	})
	names := container.NewVBox(layout.NewSpacer(), v.title, v.sub, layout.NewSpacer())
	names.Objects[1] = v.title
	head := container.NewBorder(nil, nil,
		container.NewHBox(container.NewCenter(v.av)),
		container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(18), v.lock)), container.NewCenter(info)),
		compactVBox(v.title, v.sub))
	headTap := newTapArea(container.NewPadded(head), func() { u.showInfo() })
	headTap.noHover = true

	v.stub = newMsgRow(v)
	v.list = widget.NewList(func() int {
		if v.sizing {
			return 0
		}
		return len(v.rows)
	}, func() fyne.CanvasObject {
		if v.sizing {
			return v.stub // only measured: see setHeights
		}
		return newMsgRow(v)
	}, v.updateRow)
	v.list.HideSeparators = true
	v.list.OnSelected = func(id widget.ListItemID) { v.list.UnselectAll() }
	v.pill = primaryButton("New messages ↓", func() { v.scrollToBottom() })
	v.pill.Hide()
	v.notice = caption("")
	v.notice.Alignment = fyne.TextAlignCenter
	v.notice.Hide()
	v.compose = newComposer(v)
	v.bottom = container.NewStack()
	listArea := container.NewStack(
		container.New(&widthWatch{onWidth: v.widthChanged}, v.list),
		container.NewVBox(layout.NewSpacer(), container.NewCenter(v.pill), widget.NewLabel("")))
	v.root = container.NewBorder(
		container.NewVBox(headTap, widget.NewSeparator()),
		container.NewVBox(v.notice, v.bottom),
		nil, nil, listArea)
	return v
}

// compactVBox stacks objects with no padding.
func compactVBox(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedVBoxLayout(-6), objs...)
}

// widthWatch fills its object and reports width changes.
type widthWatch struct {
	onWidth func(float32)
	w       float32
}

func (w *widthWatch) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	for _, o := range objs {
		o.Resize(s)
		o.Move(fyne.NewPos(0, 0))
	}
	if s.Width != w.w && s.Width > 0 {
		w.w = s.Width
		w.onWidth(s.Width)
	}
}

func (w *widthWatch) MinSize(objs []fyne.CanvasObject) fyne.Size { return fyne.NewSize(200, 100) }

func (v *convView) widthChanged(w float32) {
	if v.width == w {
		return
	}
	v.width = w
	if !v.id.IsZero() {
		v.rebuild(false)
	}
}

func (v *convView) listWidth() float32 {
	if v.width > 0 {
		return v.width
	}
	return 700
}

func (v *convView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	r, ok := o.(*msgRow)
	if !ok || id < 0 || id >= len(v.rows) {
		return
	}
	r.set(id, v.rows[id])
	if id <= 2 && v.ready && v.hasOlder && !v.loading && !v.rebuilding && v.list.GetScrollOffset() < 80 {
		v.loadOlder()
	}
	if id == len(v.rows)-1 && v.pill.Visible() {
		v.pill.Hide()
		v.markSeen()
	}
}

// close forgets the open conversation.
func (v *convView) close() {
	if !v.id.IsZero() {
		v.compose.stopTyping()
	}
	v.id = app.ConvID{}
	v.gen++
	v.stopMedia()
}

// open loads the newest page of a conversation.
func (v *convView) open(id app.ConvID) {
	if v.id == id && v.ready {
		return
	}
	v.close()
	v.id = id
	v.openedAt = time.Now()
	v.c = app.Conversation{ID: id}
	v.msgs, v.rows, v.members = nil, nil, nil
	v.quotes = make(map[app.EventID]app.Message)
	v.ready, v.loading, v.hasOlder = false, false, false
	v.highlight, v.pendingJump = app.EventID{}, app.EventID{}
	v.pill.Hide()
	v.compose.reset()
	v.list.Refresh()
	v.load(true)
}

// refresh re-reads the conversation and the loaded messages after an
// update.
func (v *convView) refresh() {
	if v.id.IsZero() {
		return
	}
	v.load(false)
}

// load reads the conversation, its members and the newest messages (as
// many as are loaded, up to 500) and merges them into the cache.
func (v *convView) load(first bool) {
	u := v.u
	id, gen := v.id, v.gen
	limit := pageSize
	if n := len(v.msgs); n > limit {
		limit = min(n, 500)
	}
	u.async("open the chat", func(ctx context.Context) (func(), error) {
		c, err := u.svc.Conversation(ctx, id)
		if err != nil {
			return nil, err
		}
		members, err := u.svc.Members(ctx, id)
		if err != nil {
			return nil, err
		}
		ms, err := u.svc.Messages(ctx, id, app.Cursor{}, limit)
		if err != nil {
			return nil, err
		}
		quotes := v.fetchQuotes(ctx, ms)
		keys := authorsOf(ms, quotes)
		if c.Kind == app.Direct {
			keys[c.Peer] = true
		}
		people, err := u.readPeople(ctx, keys)
		if err != nil {
			return nil, err
		}
		return func() {
			if gen != v.gen || id != v.id {
				return
			}
			u.learn(people)
			atBottom := first || v.atBottom()
			before := len(v.msgs)
			var lastBefore app.EventID
			if before > 0 {
				lastBefore = v.msgs[before-1].ID
			}
			v.c, v.members = c, members
			for k, q := range quotes {
				v.quotes[k] = q
			}
			full := len(ms) == limit
			v.msgs = mergeNewest(v.msgs, ms, full)
			if first {
				v.hasOlder = full
			} else if !full {
				v.hasOlder = false
			}
			v.refreshHeader()
			v.refreshBottom()
			newFromOthers := len(v.msgs) > 0 && v.msgs[len(v.msgs)-1].ID != lastBefore && v.msgs[len(v.msgs)-1].Author != u.me
			v.rebuild(atBottom)
			if first {
				v.ready = true
				u.log.Info("conversation shown", "conv", id.String()[:12], "messages", len(ms),
					"took_ms", float64(time.Since(v.openedAt).Microseconds())/1000)
			}
			if !atBottom && newFromOthers {
				v.pill.Show()
			}
			if atBottom {
				v.markSeen()
			}
			if !v.pendingJump.IsZero() {
				v.jumpTo(v.pendingJump)
			}
		}, nil
	})
}

// fetchQuotes reads replied-to messages that are not in ms.
func (v *convView) fetchQuotes(ctx context.Context, ms []app.Message) map[app.EventID]app.Message {
	have := make(map[app.EventID]bool, len(ms))
	for _, m := range ms {
		have[m.ID] = true
	}
	out := make(map[app.EventID]app.Message)
	for _, m := range ms {
		if m.ReplyTo.IsZero() || have[m.ReplyTo] {
			continue
		}
		if _, ok := out[m.ReplyTo]; ok {
			continue
		}
		if q, err := v.u.svc.Message(ctx, m.ReplyTo); err == nil {
			out[m.ReplyTo] = q
		}
	}
	return out
}

// loadOlder prepends the page before the oldest loaded message, keeping
// the view where it is.
func (v *convView) loadOlder() {
	if v.loading || !v.hasOlder || len(v.msgs) == 0 {
		return
	}
	v.loading = true
	u := v.u
	id, gen := v.id, v.gen
	before := app.CursorOf(v.msgs[0])
	u.async("load older messages", func(ctx context.Context) (func(), error) {
		ms, err := u.svc.Messages(ctx, id, before, pageSize)
		if err != nil {
			return func() { v.loading = false }, err
		}
		quotes := v.fetchQuotes(ctx, ms)
		people, err := u.readPeople(ctx, authorsOf(ms, quotes))
		if err != nil {
			return func() { v.loading = false }, err
		}
		return func() {
			u.learn(people)
			if gen != v.gen || id != v.id {
				return
			}
			v.loading = false
			v.hasOlder = len(ms) == pageSize
			for k, q := range quotes {
				v.quotes[k] = q
			}
			if len(ms) == 0 {
				return
			}
			oldFirst := v.msgs[0].ID
			offset := v.list.GetScrollOffset()
			oldTop := v.rowOffset(v.rowOf(oldFirst))
			v.msgs = append(append([]app.Message(nil), ms...), v.msgs...)
			v.rebuild(false)
			newTop := v.rowOffset(v.rowOf(oldFirst))
			v.list.ScrollToOffset(offset + newTop - oldTop)
			if !v.pendingJump.IsZero() {
				v.jumpTo(v.pendingJump)
			}
		}, nil
	})
}

// rebuild recomputes the rows and their heights; bottom scrolls to the
// newest message.
func (v *convView) rebuild(bottom bool) {
	if v.id.IsZero() {
		return
	}
	offset := v.list.GetScrollOffset()
	prev := v.rows
	v.rows = v.buildRows(v.listWidth())
	// Rows set up on the way (setHeights can leave the list at the top)
	// must not ask for older pages; scrolling back before the refresh
	// sets up only the rows that will show.
	v.rebuilding = true
	v.setHeights(prev)
	if bottom {
		v.list.ScrollToBottom()
	} else {
		v.list.ScrollToOffset(offset)
	}
	v.list.Refresh()
	v.rebuilding = false
	if bottom {
		v.list.ScrollToBottom()
		// The list takes new row heights into its content size at its
		// next layout; scrolling again then reaches the real bottom
		// (otherwise the newest message can stay just out of view).
		// It is async work like any other, so that whoever waits for
		// the UI to settle also waits for this scroll.
		gen := v.gen
		v.u.async("scroll to the newest message", func(ctx context.Context) (func(), error) {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return nil, nil
			}
			return func() {
				if v.gen == gen {
					v.list.ScrollToBottom()
				}
			}, nil
		})
	}
}

// setHeights gives the list the heights of the rows that changed since
// prev. On a list on screen every new height refreshes the whole list,
// which sets up each visible row again: a page of new heights cost
// hundreds of row layouts. So when more than a couple change, the rows
// are hidden from the list while the heights go in, which makes those
// refreshes empty; the caller's refresh then sets up the visible rows
// once (and the caller restores the scroll offset).
func (v *convView) setHeights(prev []chatRow) {
	changed := 0
	for i, r := range v.rows {
		if i >= len(prev) || prev[i].h != r.h {
			changed++
		}
	}
	v.sizing = changed > 2
	for i, r := range v.rows {
		if i >= len(prev) || prev[i].h != r.h {
			v.list.SetItemHeight(i, r.h)
		}
	}
	v.sizing = false
}

func (v *convView) rowOf(id app.EventID) int {
	for i, r := range v.rows {
		if r.kind == rowMsg && v.msgs[r.msg].ID == id {
			return i
		}
	}
	return -1
}

// rowOffset is the y of row i in the list.
func (v *convView) rowOffset(i int) float32 {
	pad := v.list.Theme().Size(theme.SizeNamePadding)
	var y float32
	for j := 0; j < i && j < len(v.rows); j++ {
		y += v.rows[j].h + pad
	}
	return y
}

func (v *convView) atBottom() bool {
	if len(v.rows) == 0 {
		return true
	}
	total := v.rowOffset(len(v.rows))
	return v.list.GetScrollOffset()+v.list.Size().Height >= total-40
}

func (v *convView) scrollToBottom() {
	v.pill.Hide()
	v.list.ScrollToBottom()
	v.markSeen()
}

// markSeen tells the service this conversation has been seen, when it is
// open, in front and not a request.
func (v *convView) markSeen() {
	u := v.u
	if v.id.IsZero() || !v.ready || !u.focused || v.c.Folder == app.Requests || len(v.msgs) == 0 {
		return
	}
	if v.c.Unread == 0 && v.msgs[len(v.msgs)-1].Author == u.me {
		return
	}
	id := v.id
	u.act("mark the chat as seen", func(ctx context.Context) error { return u.svc.MarkSeen(ctx, id, app.EventID{}) }, nil)
}

// quoteOf is the replied-to message, from the cache.
func (v *convView) quoteOf(id app.EventID) (app.Message, bool) {
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if v.msgs[i].ID == id {
			return v.msgs[i], true
		}
	}
	q, ok := v.quotes[id]
	return q, ok
}

// jumpTo scrolls to a message, loading older pages until it is found.
func (v *convView) jumpTo(id app.EventID) {
	if i := v.rowOf(id); i >= 0 {
		v.pendingJump = app.EventID{}
		v.jumpPages = 0
		v.list.ScrollTo(i)
		v.highlight = id
		v.list.Refresh()
		time.AfterFunc(1500*time.Millisecond, func() {
			v.u.do(func() {
				if v.highlight == id {
					v.highlight = app.EventID{}
					v.list.Refresh()
				}
			})
		})
		return
	}
	if v.pendingJump != id {
		v.jumpPages = 0
	}
	v.pendingJump = id
	if !v.ready {
		return // load applies it
	}
	if v.hasOlder && v.jumpPages < 40 {
		v.jumpPages++
		v.loadOlder()
		return
	}
	v.pendingJump = app.EventID{}
}

func (v *convView) jumpToQuote(r chatRow) {
	if r.msg < len(v.msgs) {
		v.jumpTo(v.msgs[r.msg].ReplyTo)
	}
}

// heart reacts ❤ to a message (double tap).
func (v *convView) heart(r chatRow) {
	if r.kind != rowMsg || r.msg >= len(v.msgs) {
		return
	}
	m := v.msgs[r.msg]
	if m.Unsent || m.Expired {
		return
	}
	v.react(m, "❤️")
}

func (v *convView) react(m app.Message, emoji string) {
	u := v.u
	for _, r := range m.Reactions {
		if r.Author == u.me && r.Emoji == emoji {
			emoji = "" // the same reaction again removes it
		}
	}
	id := m.ID
	u.act("react", func(ctx context.Context) error { _, err := u.svc.React(ctx, id, emoji); return err }, nil)
}

var quickReactions = []string{"❤️", "😂", "😮", "😢", "😡", "👍"}

// messageMenu is the context menu of a message.
func (v *convView) messageMenu(r chatRow, at fyne.Position) {
	if r.msg >= len(v.msgs) {
		return
	}
	items := v.messageActions(v.msgs[r.msg])
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), v.u.win.Canvas(), at)
}

// messageActions are the menu items for a message.
func (v *convView) messageActions(m app.Message) []*fyne.MenuItem {
	u := v.u
	mine := m.Author == u.me
	gone := m.Unsent || m.Expired
	var items []*fyne.MenuItem
	if !gone {
		react := fyne.NewMenuItem("React", nil)
		var sub []*fyne.MenuItem
		for _, e := range quickReactions {
			e := e
			sub = append(sub, fyne.NewMenuItem(e, func() { v.react(m, e) }))
		}
		react.ChildMenu = fyne.NewMenu("", sub...)
		items = append(items, react,
			fyne.NewMenuItem("Reply", func() { v.compose.replyTo(m) }))
		// View-once media is never copied, forwarded or saved.
		once := m.Media != nil && m.Media.Mode != app.ModeKeep
		if !once {
			items = append(items,
				fyne.NewMenuItem("Copy", func() {
					text, _ := messageText(m, mine, u.name(m.Author))
					u.app.Clipboard().SetContent(text)
				}),
				fyne.NewMenuItem("Forward", func() { u.showForward(m) }))
		}
		if m.Media != nil && !once {
			items = append(items,
				fyne.NewMenuItem("Open", func() { v.mediaViewOf(m).openFile() }),
				fyne.NewMenuItem("Save…", func() { u.saveMedia(m) }))
		}
		if mine && m.Kind == app.KindText && u.now().Sub(m.Time) < app.EditWindow {
			items = append(items, fyne.NewMenuItem("Edit", func() { v.compose.edit(m) }))
		}
	}
	if mine && !m.Unsent {
		items = append(items, fyne.NewMenuItem("Unsend", func() {
			id := m.ID
			u.act("unsend", func(ctx context.Context) error { _, err := u.svc.Unsend(ctx, id); return err }, nil)
		}))
	}
	items = append(items,
		fyne.NewMenuItem("Delete for you", func() {
			id := m.ID
			u.act("delete the message", func(ctx context.Context) error { return u.svc.DeleteForMe(ctx, id) }, nil)
		}),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Message info", func() { u.showMessageInfo(m, v.c) }))
	return items
}

// refreshHeader shows the name, the activity line and the lock.
func (v *convView) refreshHeader() {
	u := v.u
	if v.id.IsZero() {
		return
	}
	c := v.c
	key := c.Peer[:]
	if c.Kind == app.Group {
		key = c.ID[:]
	}
	v.title.SetText(c.Title)
	if c.E2E {
		v.lock.Show()
	} else {
		v.lock.Hide()
	}
	var sub string
	if c.Kind == app.Group {
		sub = fmt.Sprintf("%d members", c.Members)
		if c.Left {
			sub = "You left this group"
		}
		v.av.set(key, c.Title, false)
		v.sub.SetText(sub)
		return
	}
	if p, ok := u.people[c.Peer]; ok && p.Handle != "" {
		sub = "@" + p.Handle
	}
	v.av.set(key, c.Title, false)
	v.sub.SetText(sub)
	peer, id := c.Peer, v.id
	u.async("read presence", func(ctx context.Context) (func(), error) {
		pr := u.svc.Presence(ctx, peer)
		return func() {
			if v.id != id {
				return
			}
			if t := activeText(pr, u.now()); t != "" {
				v.sub.SetText(t)
			}
			v.av.set(key, c.Title, pr.Online)
		}, nil
	}) //nolint
}

// refreshBottom shows the composer, the request bar or why one cannot
// write.
func (v *convView) refreshBottom() {
	u := v.u
	c := v.c
	var bottom fyne.CanvasObject
	switch {
	case c.Folder == app.Requests:
		bottom = v.requestBar()
	case c.Left:
		l := caption("You can't send messages to this group because you're no longer a member.")
		l.Alignment = fyne.TextAlignCenter
		bottom = container.NewPadded(l)
	case c.Kind == app.Direct && u.people[c.Peer].Blocked:
		l := caption("You blocked this account. Unblock them in Details to send messages.")
		l.Alignment = fyne.TextAlignCenter
		bottom = container.NewPadded(l)
	default:
		bottom = v.compose.root
	}
	// Refreshing the composer redraws all its icons; every load would.
	if len(v.bottom.Objects) != 1 || v.bottom.Objects[0] != bottom {
		v.bottom.Objects = []fyne.CanvasObject{bottom}
		v.bottom.Refresh()
	}
	v.refreshNotice()
}

// refreshNotice says why peers refused this device's messages, if they did.
func (v *convView) refreshNotice() {
	if r := v.u.svc.Refusal(v.id); r != app.RefuseNone {
		v.notice.SetText(app.RefusalText(r))
		v.notice.Show()
		return
	}
	if v.c.Kind == app.Direct && v.u.people[v.c.Peer].KeyChanged {
		v.notice.SetText(v.c.Title + "'s encryption key changed. Compare safety numbers in Details.")
		v.notice.Show()
		return
	}
	v.notice.Hide()
}

// requestBar is the Accept / Delete / Block bar of a message request.
func (v *convView) requestBar() fyne.CanvasObject {
	u := v.u
	id := v.id
	name := v.c.Title
	text := widget.NewLabel(name + " wants to send you a message. They won't know you've seen it until you accept.")
	text.Wrapping = fyne.TextWrapWord
	text.Alignment = fyne.TextAlignCenter
	block := widget.NewButton("Block", func() {
		u.confirm("Block "+name+"?", "They won't be able to message you or find your profile on Kite.", "Block", func() {
			u.act("block", func(ctx context.Context) error { return u.svc.BlockRequest(ctx, id) }, func() { u.showEmpty() })
		})
	})
	block.Importance = widget.DangerImportance
	del := widget.NewButton("Delete", func() {
		u.act("delete the request", func(ctx context.Context) error { return u.svc.DeleteRequest(ctx, id) }, func() { u.showEmpty() })
	})
	v.accept = primaryButton("Accept", func() {
		u.act("accept the request", func(ctx context.Context) error { return u.svc.AcceptRequest(ctx, id) }, func() {
			u.inbox.setFolder(app.Primary)
			v.refresh()
		})
	})
	return container.NewPadded(container.NewVBox(text, container.NewGridWithColumns(3, block, del, v.accept)))
}

// emptyState is the right pane with no conversation open.
func emptyState(u *UI) fyne.CanvasObject {
	circle := canvas.NewCircle(transparentC)
	circle.StrokeColor = paletteFor(u.app).fg
	circle.StrokeWidth = 2
	icon := widget.NewIcon(theme.NewThemedResource(emojiIcon))
	_ = icon
	send := widget.NewIcon(theme.MailSendIcon())
	logo := container.NewStack(container.NewGridWrap(fyne.NewSquareSize(96), circle), container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(44), send)))
	title := widget.NewLabel("Your messages")
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.SizeName = theme.SizeNameSubHeadingText
	title.Alignment = fyne.TextAlignCenter
	sub := caption("Send private messages to a friend or group, over your own network.")
	sub.Alignment = fyne.TextAlignCenter
	btn := primaryButton("Send message", func() { u.showNewMessage() })
	return container.NewCenter(container.NewVBox(container.NewCenter(logo), title, withWidth(320, sub), container.NewCenter(btn)))
}

// confirm asks before a destructive action.
func (u *UI) confirm(title, message, action string, yes func()) {
	d := widget.NewLabel(message)
	d.Wrapping = fyne.TextWrapWord
	dlg := newConfirm(title, action, withWidth(320, d), func(ok bool) {
		if ok {
			yes()
		}
	}, u.win)
	dlg.Show()
}
