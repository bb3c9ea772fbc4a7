package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
)

// inboxRow is one row of the inbox list: a conversation, a person found by
// search, a message found by search, or a section heading.
type inboxRow struct {
	conv    *app.Conversation
	person  *app.Person
	msg     *app.Message
	head    string
	online  bool
	msgConv string // title of a found message's conversation
}

// inboxView is the left pane.
type inboxView struct {
	u        *UI
	root     fyne.CanvasObject
	title    *widget.Label
	search   *widget.Entry
	tabs     []*widget.Button
	unreadBt *widget.Button
	archBt   *widget.Button
	list     *widget.List
	empty    *widget.Label

	folder   app.Folder
	archived bool
	unread   bool
	query    string
	rows     []inboxRow
	requests int
	selected app.ConvID
	gen      int  // generation of the newest load, to drop stale ones
	loaded   bool // a load has been applied
}

func newInboxView(u *UI) *inboxView {
	v := &inboxView{u: u, folder: app.Primary}
	v.title = heading("", 18)
	newMsg := iconButton(theme.DocumentCreateIcon(), func() { u.showNewMessage() })
	settings := iconButton(theme.SettingsIcon(), func() { u.showSettings() })
	top := container.NewBorder(nil, nil, nil, container.NewHBox(settings, newMsg), v.title)

	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search")
	v.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.search.OnChanged = func(s string) {
		v.query = strings.TrimSpace(s)
		v.reload()
	}

	for _, f := range []app.Folder{app.Primary, app.General, app.Requests} {
		f := f
		b := widget.NewButton(folderTitle(f, 0), func() { v.setFolder(f) })
		v.tabs = append(v.tabs, b)
	}
	v.unreadBt = widget.NewButton("Unread", func() { v.unread = !v.unread; v.paintTabs(); v.reload() })
	v.archBt = widget.NewButtonWithIcon("Archived", theme.StorageIcon(), func() { v.archived = !v.archived; v.paintTabs(); v.reload() })
	tabs := container.NewVBox(container.NewGridWithColumns(3, v.tabs[0], v.tabs[1], v.tabs[2]),
		container.NewHBox(v.unreadBt, v.archBt))

	v.list = widget.NewList(func() int { return len(v.rows) }, v.createRow, v.updateRow)
	v.list.HideSeparators = true
	v.list.OnSelected = func(id widget.ListItemID) {
		v.list.UnselectAll()
		if id < 0 || id >= len(v.rows) {
			return
		}
		v.tap(v.rows[id])
	}
	v.empty = caption("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Hide()
	v.paintTabs()
	v.root = container.NewBorder(
		container.NewVBox(container.NewPadded(top), container.NewPadded(v.search), tabs, widget.NewSeparator()),
		nil, nil, nil,
		container.NewStack(v.list, container.NewVBox(layout.NewSpacer(), v.empty, layout.NewSpacer())))
	return v
}

func folderTitle(f app.Folder, n int) string {
	switch f {
	case app.General:
		return "General"
	case app.Requests:
		if n > 0 {
			return fmt.Sprintf("Requests (%d)", n)
		}
		return "Requests"
	}
	return "Primary"
}

func (v *inboxView) header() {
	h := v.u.profile.Handle
	if h == "" {
		h = "Messages"
	}
	v.title.SetText(h)
}

func (v *inboxView) setFolder(f app.Folder) {
	v.folder = f
	v.archived = false
	v.paintTabs()
	v.reload()
}

func (v *inboxView) paintTabs() {
	for i, f := range []app.Folder{app.Primary, app.General, app.Requests} {
		b := v.tabs[i]
		b.SetText(folderTitle(f, map[bool]int{true: v.requests}[f == app.Requests]))
		if f == v.folder && !v.archived {
			b.Importance = widget.MediumImportance
		} else {
			b.Importance = widget.LowImportance
		}
		b.Refresh()
	}
	if v.unread {
		v.unreadBt.Importance = widget.HighImportance
	} else {
		v.unreadBt.Importance = widget.LowImportance
	}
	v.unreadBt.Refresh()
	if v.archived {
		v.archBt.Importance = widget.HighImportance
	} else {
		v.archBt.Importance = widget.LowImportance
	}
	v.archBt.Refresh()
}

// reload re-reads the inbox (or the search results) off the UI thread.
func (v *inboxView) reload() {
	v.gen++
	gen := v.gen
	q := app.InboxQuery{Folder: v.folder, Archived: v.archived, UnreadOnly: v.unread, Limit: 300}
	query := v.query
	u := v.u
	u.async("load the inbox", func(ctx context.Context) (func(), error) {
		var rows []inboxRow
		var people []app.Person // who wrote the messages found
		if query != "" {
			rows = v.searchRows(ctx, query)
			var found []app.Message
			for _, r := range rows {
				if r.msg != nil {
					found = append(found, *r.msg)
				}
			}
			var err error
			if people, err = u.readPeople(ctx, authorsOf(found, nil)); err != nil {
				return nil, err
			}
		} else {
			cs, err := u.svc.Inbox(ctx, q)
			if err != nil {
				return nil, err
			}
			for i := range cs {
				c := cs[i]
				r := inboxRow{conv: &c}
				if c.Kind == app.Direct {
					r.online = u.svc.Presence(ctx, c.Peer).Online
				}
				rows = append(rows, r)
			}
		}
		reqs, err := u.svc.Inbox(ctx, app.InboxQuery{Folder: app.Requests, Limit: 500})
		if err != nil {
			return nil, err
		}
		return func() {
			u.learn(people)
			if gen != v.gen {
				return
			}
			v.rows = rows
			v.loaded = true
			v.requests = len(reqs)
			v.paintTabs()
			v.list.Refresh()
			v.showEmpty()
		}, nil
	})
}

func (v *inboxView) showEmpty() {
	if len(v.rows) > 0 {
		v.empty.Hide()
		return
	}
	switch {
	case v.query != "":
		v.empty.SetText("No results for “" + v.query + "”")
	case v.archived:
		v.empty.SetText("No archived chats")
	case v.unread:
		v.empty.SetText("You're all caught up")
	case v.folder == app.Requests:
		v.empty.SetText("No message requests")
	case v.folder == app.General:
		v.empty.SetText("Chats you move to General show here")
	default:
		v.empty.SetText("No messages yet")
	}
	v.empty.Show()
}

// searchRows finds people by handle or name and messages by text.
func (v *inboxView) searchRows(ctx context.Context, query string) []inboxRow {
	u := v.u
	var rows []inboxRow
	lq := strings.ToLower(strings.TrimPrefix(query, "@"))
	ps, err := u.svc.People(ctx, false)
	if err != nil {
		u.log.Warn("ui: search people", "err", err)
	}
	var found []app.Person
	for _, p := range ps {
		if !p.Blocked && (strings.Contains(strings.ToLower(p.Handle), lq) || strings.Contains(strings.ToLower(p.Name), lq)) {
			found = append(found, p)
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].Contact != found[j].Contact {
			return found[i].Contact
		}
		return found[i].DisplayName() < found[j].DisplayName()
	})
	if len(found) > 0 {
		rows = append(rows, inboxRow{head: "People"})
		for i := range found {
			rows = append(rows, inboxRow{person: &found[i]})
		}
	}
	ms, err := u.svc.Search(ctx, query, app.ConvID{}, 50)
	if err != nil {
		u.log.Debug("ui: search messages", "err", err)
	}
	if len(ms) > 0 {
		rows = append(rows, inboxRow{head: "Messages"})
		titles := make(map[app.ConvID]string)
		for i := range ms {
			t, ok := titles[ms[i].Conv]
			if !ok {
				if c, err := u.svc.Conversation(ctx, ms[i].Conv); err == nil {
					t = c.Title
				}
				titles[ms[i].Conv] = t
			}
			rows = append(rows, inboxRow{msg: &ms[i], msgConv: t})
		}
	}
	return rows
}

func (v *inboxView) tap(r inboxRow) {
	u := v.u
	switch {
	case r.conv != nil:
		u.openConv(r.conv.ID)
	case r.msg != nil:
		u.openConv(r.msg.Conv)
		u.conv.jumpTo(r.msg.ID)
	case r.person != nil:
		key := r.person.Key
		u.async("open the chat", func(ctx context.Context) (func(), error) {
			id, err := u.svc.Direct(ctx, key, false)
			if err != nil {
				return nil, err
			}
			return func() { u.openConv(id) }, nil
		})
	}
}

func (v *inboxView) select_(id app.ConvID) {
	v.selected = id
	v.list.Refresh()
}

// convRowView is the template of an inbox row.
type convRowView struct {
	tap     *tapArea
	av      *avatar
	name    *canvas.Text
	preview *canvas.Text
	when    *canvas.Text
	icons   *fyne.Container
	head    *canvas.Text
	body    *fyne.Container
}

func (v *inboxView) createRow() fyne.CanvasObject {
	r := &convRowView{av: v.u.newAvatar(52)}
	p := paletteFor(v.u.app)
	r.name = newText("", p.fg, 14, false)
	r.preview = newText("", p.muted, 13, false)
	r.when = newText("", p.muted, 13, false)
	r.icons = container.NewHBox()
	r.head = newText("", p.fg, 15, true)
	sub := container.NewHBox(r.preview, r.when)
	text := container.NewVBox(layout.NewSpacer(), r.name, sub, layout.NewSpacer())
	r.body = container.NewBorder(nil, nil, container.NewCenter(r.av), container.NewCenter(r.icons), text)
	content := container.NewStack(container.NewPadded(r.body), container.NewPadded(r.head))
	r.tap = newTapArea(withHeight(72, content), nil)
	r.tap.radius = 0
	holder := &rowHolder{tapArea: r.tap, view: r}
	return holder
}

// rowHolder lets updateRow find the parts of a row template.
type rowHolder struct {
	*tapArea
	view *convRowView
}

func (v *inboxView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	h, ok := o.(*rowHolder)
	if !ok || id >= len(v.rows) {
		return
	}
	r := h.view
	row := v.rows[id]
	u := v.u
	p := paletteFor(u.app)
	now := u.now()
	r.tap.onTap = func() { v.tap(row) }
	r.tap.onSecond = nil
	r.icons.Objects = nil
	r.name.Color, r.preview.Color, r.when.Color, r.head.Color = p.fg, p.muted, p.muted, p.fg
	r.name.TextStyle.Bold = false
	r.preview.TextStyle.Bold = false
	if row.head != "" {
		r.body.Hide()
		r.head.Show()
		r.head.Text = row.head
		r.head.Refresh()
		r.tap.noHover = true
		r.tap.setSelected(false)
		return
	}
	r.tap.noHover = false
	r.head.Hide()
	r.body.Show()
	maxName := 26
	switch {
	case row.conv != nil:
		c := row.conv
		key := c.Peer[:]
		if c.Kind == app.Group {
			key = c.ID[:]
		}
		r.av.set(key, c.Title, row.online)
		r.name.Text = ellipsize(c.Title, maxName)
		typing := len(u.typers(c.ID)) > 0
		r.preview.Text = ellipsize(previewText(*c, u.me, typing), 30)
		r.when.Text = ""
		if !c.LastAt.IsZero() {
			r.when.Text = "· " + relTime(c.LastAt, now)
		}
		if c.Unread > 0 {
			r.name.TextStyle.Bold = true
			r.preview.TextStyle.Bold = true
			r.preview.Color = p.fg
		}
		if typing {
			r.preview.Color = kiteBlue
		}
		if c.Pinned {
			r.icons.Add(smallIcon(theme.NewThemedResource(pinIcon)))
		}
		if c.E2E {
			r.icons.Add(smallIcon(theme.NewThemedResource(lockIcon)))
		}
		if c.Muted(now) {
			r.icons.Add(smallIcon(theme.VolumeMuteIcon()))
		}
		if c.Unread > 0 {
			if c.Unread > 1 {
				n := newText(fmt.Sprint(c.Unread), kiteBlue, 12, true)
				r.icons.Add(container.NewCenter(n))
			}
			r.icons.Add(container.NewCenter(newDot(unreadDot, 9)))
		}
		r.tap.setSelected(c.ID == v.selected)
		cc := *c
		r.tap.onSecond = func(e *fyne.PointEvent) { u.convMenu(cc, e.AbsolutePosition) }
	case row.person != nil:
		pp := row.person
		r.av.set(pp.Key[:], pp.DisplayName(), false)
		r.name.Text = ellipsize(pp.DisplayName(), maxName)
		r.preview.Text = ""
		if pp.Handle != "" {
			r.preview.Text = "@" + pp.Handle
		}
		r.when.Text = ""
		r.tap.setSelected(false)
	case row.msg != nil:
		m := row.msg
		r.av.set(m.Author[:], u.name(m.Author), false)
		r.name.Text = ellipsize(row.msgConv, maxName)
		who := u.name(m.Author)
		if m.Author == u.me {
			who = "You"
		}
		r.preview.Text = ellipsize(who+": "+oneLine(m.Text), 30)
		r.when.Text = "· " + relTime(m.Time, now)
		r.tap.setSelected(false)
	}
	r.name.Refresh()
	r.preview.Refresh()
	r.when.Refresh()
	r.icons.Refresh()
}

func smallIcon(res fyne.Resource) fyne.CanvasObject {
	ic := widget.NewIcon(res)
	return container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(16), ic))
}

// convMenu is the inbox row's context menu.
func (u *UI) convMenu(c app.Conversation, at fyne.Position) {
	now := u.now()
	id := c.ID
	var items []*fyne.MenuItem
	pin := "Pin"
	if c.Pinned {
		pin = "Unpin"
	}
	items = append(items, fyne.NewMenuItem(pin, func() {
		u.act("pin the chat", func(ctx context.Context) error { return u.svc.Pin(ctx, id, !c.Pinned) }, nil)
	}))
	if c.Muted(now) {
		items = append(items, fyne.NewMenuItem("Unmute", func() {
			u.act("unmute", func(ctx context.Context) error { return u.svc.Mute(ctx, id, 0) }, nil)
		}))
	} else {
		items = append(items, fyne.NewMenuItem("Mute", func() {
			u.act("mute", func(ctx context.Context) error { return u.svc.Mute(ctx, id, app.MuteForever) }, nil)
		}))
	}
	arch := "Archive"
	if c.Archived {
		arch = "Unarchive"
	}
	items = append(items, fyne.NewMenuItem(arch, func() {
		u.act("archive the chat", func(ctx context.Context) error { return u.svc.Archive(ctx, id, !c.Archived) }, nil)
	}))
	switch c.Folder {
	case app.Primary:
		items = append(items, fyne.NewMenuItem("Move to General", func() {
			u.act("move the chat", func(ctx context.Context) error { return u.svc.Move(ctx, id, app.General) }, nil)
		}))
	case app.General:
		items = append(items, fyne.NewMenuItem("Move to Primary", func() {
			u.act("move the chat", func(ctx context.Context) error { return u.svc.Move(ctx, id, app.Primary) }, nil)
		}))
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), u.win.Canvas(), at)
}
