package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"kite/app"
)

func newConfirm(title, action string, content fyne.CanvasObject, cb func(bool), w fyne.Window) dialog.Dialog {
	d := dialog.NewCustomConfirm(title, action, "Cancel", content, cb, w)
	return d
}

// candidate is someone the people picker offers.
type candidate struct {
	key    app.PeerKey
	name   string
	handle string
	nearby bool
}

// picker chooses up to max people, searching by handle or name.
type picker struct {
	root     fyne.CanvasObject
	search   *widget.Entry
	list     *widget.List
	to       *widget.Label
	all      []candidate
	shown    []candidate
	chosen   []app.PeerKey
	max      int
	onChange func()
	avatars  *avatarCache // profile pictures, if set
}

func newPicker(max int) *picker {
	p := &picker{max: max}
	p.search = widget.NewEntry()
	p.search.SetPlaceHolder("Search by name or @handle")
	p.search.OnChanged = func(string) { p.filter() }
	p.to = widget.NewLabel("To:")
	p.to.Wrapping = fyne.TextWrapWord
	p.list = widget.NewList(func() int { return len(p.shown) },
		func() fyne.CanvasObject {
			av := newAvatar(36)
			av.cache = p.avatars
			name := widget.NewLabel("")
			name.TextStyle = fyne.TextStyle{Bold: true}
			sub := caption("")
			check := widget.NewCheck("", nil)
			return container.NewBorder(nil, nil, container.NewCenter(av), check, compactVBox(name, sub))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(p.shown) {
				return
			}
			c := p.shown[id]
			box := o.(*fyne.Container)
			var av *avatar
			var check *widget.Check
			var text *fyne.Container
			for _, obj := range box.Objects {
				switch t := obj.(type) {
				case *widget.Check:
					check = t
				case *fyne.Container:
					if len(t.Objects) == 1 {
						if a, ok := t.Objects[0].(*avatar); ok {
							av = a
							continue
						}
					}
					text = t
				}
			}
			if av != nil {
				av.set(c.key[:], c.name, false)
			}
			if text != nil && len(text.Objects) == 2 {
				text.Objects[0].(*widget.Label).SetText(c.name)
				sub := ""
				if c.handle != "" {
					sub = "@" + c.handle
				}
				if c.nearby {
					sub = strings.TrimSpace(sub + "  · nearby")
				}
				text.Objects[1].(*widget.Label).SetText(sub)
			}
			if check != nil {
				check.OnChanged = nil
				check.SetChecked(p.isChosen(c.key))
				key := c.key
				check.OnChanged = func(on bool) { p.toggle(key, on) }
			}
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		p.list.UnselectAll()
		if id < len(p.shown) {
			k := p.shown[id].key
			p.toggle(k, !p.isChosen(k))
			p.list.RefreshItem(id)
		}
	}
	p.root = container.NewBorder(container.NewVBox(p.to, p.search), nil, nil, nil, p.list)
	return p
}

func (p *picker) setCandidates(cs []candidate) {
	p.all = cs
	p.filter()
}

func (p *picker) filter() {
	q := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(p.search.Text), "@"))
	p.shown = p.shown[:0]
	for _, c := range p.all {
		if q == "" || strings.Contains(strings.ToLower(c.handle), q) || strings.Contains(strings.ToLower(c.name), q) {
			p.shown = append(p.shown, c)
		}
	}
	p.list.Refresh()
}

func (p *picker) isChosen(k app.PeerKey) bool {
	for _, c := range p.chosen {
		if c == k {
			return true
		}
	}
	return false
}

func (p *picker) toggle(k app.PeerKey, on bool) {
	if on == p.isChosen(k) {
		return
	}
	if on {
		if len(p.chosen) >= p.max {
			p.list.Refresh()
			return
		}
		p.chosen = append(p.chosen, k)
	} else {
		for i, c := range p.chosen {
			if c == k {
				p.chosen = append(p.chosen[:i], p.chosen[i+1:]...)
				break
			}
		}
	}
	var names []string
	for _, c := range p.chosen {
		for _, a := range p.all {
			if a.key == c {
				names = append(names, a.name)
			}
		}
	}
	p.to.SetText("To: " + strings.Join(names, ", "))
	if p.onChange != nil {
		p.onChange()
	}
}

// candidates are contacts and nearby peers, contacts first.
func (u *UI) candidates(ctx context.Context) ([]candidate, error) {
	ps, err := u.svc.People(ctx, true)
	if err != nil {
		return nil, err
	}
	seen := make(map[app.PeerKey]bool)
	var out []candidate
	for _, p := range ps {
		if p.Blocked || p.Key == u.me {
			continue
		}
		seen[p.Key] = true
		out = append(out, candidate{key: p.Key, name: p.DisplayName(), handle: p.Handle})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].name) < strings.ToLower(out[j].name) })
	if u.net != nil {
		for _, n := range u.net.Nearby() {
			if seen[n.Key] || n.Key == u.me {
				continue
			}
			seen[n.Key] = true
			name := n.Name
			if name == "" {
				name = app.Person{Key: n.Key}.DisplayName()
			}
			out = append(out, candidate{key: n.Key, name: name, nearby: true})
		}
	}
	return out, nil
}

// newMessage is the open new-message dialog, kept for tests.
type newMessage struct {
	dlg    dialog.Dialog
	pick   *picker
	group  *widget.Entry
	e2e    *widget.Check
	submit func()
}

// showNewMessage asks who to write to: one person opens a 1:1, more make
// a group.
func (u *UI) showNewMessage() {
	if u.win == nil {
		return
	}
	nm := &newMessage{pick: newPicker(app.MaxRecipients)}
	nm.pick.avatars = u.avatars
	nm.group = widget.NewEntry()
	nm.group.SetPlaceHolder("Group name")
	nm.group.Hide()
	nm.e2e = widget.NewCheck("End-to-end encrypted", nil)
	nm.pick.onChange = func() {
		if len(nm.pick.chosen) > 1 {
			nm.group.Show()
		} else {
			nm.group.Hide()
		}
	}
	note := caption(fmt.Sprintf("Pick up to %d people from your contacts or nearby.", app.MaxRecipients))
	content := container.NewBorder(nil, container.NewVBox(nm.group, nm.e2e, note), nil, nil, nm.pick.root)
	nm.submit = func() {
		keys := append([]app.PeerKey(nil), nm.pick.chosen...)
		e2e, name := nm.e2e.Checked, nm.group.Text
		if len(keys) == 0 {
			return
		}
		u.async("start the chat", func(ctx context.Context) (func(), error) {
			var id app.ConvID
			var err error
			if len(keys) == 1 {
				id, err = u.svc.Direct(ctx, keys[0], e2e)
			} else {
				if strings.TrimSpace(name) == "" {
					name = "Group"
				}
				id, err = u.svc.CreateGroup(ctx, name, keys, e2e)
			}
			if err != nil {
				return nil, err
			}
			return func() { u.inbox.reload(); u.openConv(id) }, nil
		})
	}
	nm.dlg = dialog.NewCustomConfirm("New message", "Chat", "Cancel", content, func(ok bool) {
		if ok {
			nm.submit()
		}
	}, u.win)
	nm.dlg.Resize(fyne.NewSize(420, 520))
	u.newMsg = nm
	nm.dlg.Show()
	u.async("list your contacts", func(ctx context.Context) (func(), error) {
		cs, err := u.candidates(ctx)
		if err != nil {
			return nil, err
		}
		return func() { nm.pick.setCandidates(cs) }, nil
	})
}

// showForward sends a copy of m to chosen conversations.
func (u *UI) showForward(m app.Message) {
	pick := newPicker(app.MaxRecipients)
	pick.avatars = u.avatars
	d := dialog.NewCustomConfirm("Forward", "Send", "Cancel", pick.root, func(ok bool) {
		if !ok || len(pick.chosen) == 0 {
			return
		}
		var tos []string
		for _, k := range pick.chosen {
			tos = append(tos, k.String())
		}
		id := m.ID
		u.act("forward", func(ctx context.Context) error { _, err := u.svc.Forward(ctx, id, tos); return err }, nil)
	}, u.win)
	d.Resize(fyne.NewSize(420, 480))
	d.Show()
	u.async("list your contacts", func(ctx context.Context) (func(), error) {
		cs, err := u.candidates(ctx)
		if err != nil {
			return nil, err
		}
		return func() { pick.setCandidates(cs) }, nil
	})
}

// showMessageInfo shows when and how a message arrived.
func (u *UI) showMessageInfo(m app.Message, c app.Conversation) {
	rows := []*widget.FormItem{
		widget.NewFormItem("From", widget.NewLabel(u.name(m.Author))),
		widget.NewFormItem("Sent", widget.NewLabel(m.Time.Format("Mon 2 Jan 2006, 15:04:05"))),
		widget.NewFormItem("Arrived", widget.NewLabel(pathText(m, u.name))),
	}
	if m.Author == u.me {
		rows = append(rows, widget.NewFormItem("Status", widget.NewLabel(statusText(m, c.Kind == app.Group))))
	}
	if m.Edited {
		rows = append(rows, widget.NewFormItem("Edited", widget.NewLabel("Yes")))
	}
	if !m.ExpiresAt.IsZero() {
		rows = append(rows, widget.NewFormItem("Disappears", widget.NewLabel(m.ExpiresAt.Format("Mon 2 Jan, 15:04"))))
	}
	enc := "Encrypted in transit (Noise)"
	if c.E2E {
		enc = "End-to-end encrypted"
	}
	rows = append(rows, widget.NewFormItem("Security", widget.NewLabel(enc)),
		widget.NewFormItem("ID", widget.NewLabel(m.ID.Short())))
	dialog.ShowCustom("Message info", "Close", widget.NewForm(rows...), u.win)
}
