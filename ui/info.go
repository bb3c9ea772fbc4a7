package ui

import (
	"context"
	qrcode "github.com/skip2/go-qrcode"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
)

// infoPanel is the Details page of a conversation.
type infoPanel struct {
	u    *UI
	c    app.Conversation
	root fyne.CanvasObject
	body *fyne.Container
	mute *widget.Select
}

func newInfoPanel(u *UI, c app.Conversation) *infoPanel {
	p := &infoPanel{u: u, c: c}
	back := iconButton(theme.NavigateBackIcon(), func() { u.setRight("chat", u.conv.root) })
	title := heading("Details", 15)
	top := container.NewBorder(nil, nil, back, nil, title)
	p.body = container.NewVBox()
	p.build(nil, app.Person{})
	p.root = container.NewBorder(container.NewVBox(container.NewPadded(top), widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(container.NewPadded(p.body)))
	id := c.ID
	u.async("read the chat details", func(ctx context.Context) (func(), error) {
		ms, err := u.svc.Members(ctx, id)
		if err != nil {
			return nil, err
		}
		var person app.Person
		if c.Kind == app.Direct {
			person, _ = u.svc.Person(ctx, c.Peer)
		}
		return func() { p.build(ms, person) }, nil
	})
	return p
}

func section(title string) fyne.CanvasObject {
	l := widget.NewLabel(title)
	l.TextStyle = fyne.TextStyle{Bold: true}
	return container.NewVBox(widget.NewSeparator(), l)
}

func (p *infoPanel) build(members []app.Member, person app.Person) {
	u, c := p.u, p.c
	id := c.ID
	now := u.now()
	p.body.Objects = nil
	add := func(o ...fyne.CanvasObject) { p.body.Objects = append(p.body.Objects, o...) }

	// Who.
	key := c.Peer[:]
	if c.Kind == app.Group {
		key = c.ID[:]
	}
	av := u.newAvatar(72)
	av.set(key, c.Title, false)
	name := heading(c.Title, 18)
	name.Alignment = fyne.TextAlignCenter
	add(container.NewCenter(av), name)
	if c.Kind == app.Direct && person.Handle != "" {
		h := caption("@" + person.Handle)
		h.Alignment = fyne.TextAlignCenter
		add(h)
	}
	if person.Bio != "" {
		b := caption(person.Bio)
		b.Alignment = fyne.TextAlignCenter
		add(b)
	}

	// Encryption.
	enc := "Encrypted in transit (Noise)"
	if c.E2E {
		enc = "End-to-end encrypted"
	}
	encRow := container.NewHBox(widget.NewIcon(theme.NewThemedResource(lockIcon)), widget.NewLabel(enc))
	add(encRow)
	if c.E2E && c.Kind == app.Direct && u.safety != nil {
		if sn := u.safety(u.me.Public(), c.Peer.Public()); sn != "" {
			l := widget.NewLabel("Safety number: " + sn)
			l.Wrapping = fyne.TextWrapWord
			l.TextStyle = fyne.TextStyle{Monospace: true}
			add(l, caption("Compare this number with "+c.Title+" in person, or scan each other's code, to make sure no one is in the middle."))
			if png, err := qrcode.Encode(sn, qrcode.Medium, 256); err == nil {
				img := canvas.NewImageFromResource(fyne.NewStaticResource("safety-qr.png", png))
				img.FillMode = canvas.ImageFillContain
				img.SetMinSize(fyne.NewSize(160, 160))
				add(container.NewCenter(img))
			}
			if u.people[c.Peer].KeyChanged {
				peer := c.Peer
				add(caption(c.Title+"'s encryption key changed. Compare the numbers again."),
					widget.NewButton("Numbers match: mark as verified", func() {
						u.act("mark the key as verified", func(ctx context.Context) error {
							return u.svc.AcknowledgeKey(ctx, peer)
						}, nil)
					}))
			}
		}
	}

	// Notifications and place.
	add(section("Chat"))
	muteLabels := []string{"Not muted"}
	for _, o := range muteOptions {
		muteLabels = append(muteLabels, o.Label)
	}
	p.mute = widget.NewSelect(muteLabels, nil)
	switch {
	case !c.Muted(now):
		p.mute.SetSelected("Not muted")
	case c.MutedUntil.Equal(app.MutedForever) || c.MutedUntil.After(now.Add(48*time.Hour)):
		p.mute.SetSelected(muteOptions[3].Label)
		p.mute.PlaceHolder = "Muted"
	default:
		p.mute.PlaceHolder = "Muted until " + c.MutedUntil.Format("Mon 15:04")
	}
	p.mute.OnChanged = func(s string) {
		d := time.Duration(0)
		for _, o := range muteOptions {
			if o.Label == s {
				d = o.D
			}
		}
		u.act("mute", func(ctx context.Context) error { return u.svc.Mute(ctx, id, d) }, p.reload)
	}
	add(formRow("Mute messages", p.mute))

	pin := widget.NewCheck("Pin to the top", func(on bool) {
		u.act("pin the chat", func(ctx context.Context) error { return u.svc.Pin(ctx, id, on) }, p.reload)
	})
	pin.Checked = c.Pinned
	arch := widget.NewCheck("Archived", func(on bool) {
		u.act("archive the chat", func(ctx context.Context) error { return u.svc.Archive(ctx, id, on) }, p.reload)
	})
	arch.Checked = c.Archived
	add(pin, arch)
	switch c.Folder {
	case app.Primary:
		add(widget.NewButton("Move to General", func() {
			u.act("move the chat", func(ctx context.Context) error { return u.svc.Move(ctx, id, app.General) }, p.reload)
		}))
	case app.General:
		add(widget.NewButton("Move to Primary", func() {
			u.act("move the chat", func(ctx context.Context) error { return u.svc.Move(ctx, id, app.Primary) }, p.reload)
		}))
	}

	// Theme.
	if !c.Left {
		themes := container.NewHBox()
		for _, t := range app.Themes {
			t := t
			circle := canvas.NewCircle(chatColour(t))
			if t == c.Theme || (c.Theme == "" && t == "default") {
				circle.StrokeColor = paletteFor(u.app).fg
				circle.StrokeWidth = 3
			}
			ta := newTapArea(container.NewGridWrap(fyne.NewSquareSize(30), circle), func() {
				u.act("change the theme", func(ctx context.Context) error { _, err := u.svc.SetTheme(ctx, id, t); return err }, p.reload)
			})
			ta.noHover = true
			themes.Add(ta)
		}
		add(formRow("Theme", themes))

		var labels []string
		for _, o := range disappearOptions {
			labels = append(labels, o.Label)
		}
		dis := widget.NewSelect(labels, nil)
		dis.SetSelected(disappearLabel(c.Disappear))
		dis.OnChanged = func(s string) {
			var secs int64
			for _, o := range disappearOptions {
				if o.Label == s {
					secs = o.Seconds
				}
			}
			u.act("change disappearing messages", func(ctx context.Context) error {
				_, err := u.svc.SetDisappearing(ctx, id, secs)
				return err
			}, p.reload)
		}
		add(formRow("Disappearing messages", dis))
	}

	// Members.
	if c.Kind == app.Group {
		p.groupSection(members)
	}

	// Privacy and safety.
	add(section("Privacy and safety"))
	if c.Kind == app.Direct {
		peer := c.Peer
		if person.Blocked {
			add(widget.NewButton("Unblock", func() {
				u.act("unblock", func(ctx context.Context) error { return u.svc.Unblock(ctx, peer) }, p.reload)
			}))
		} else {
			b := widget.NewButton("Block", func() {
				u.confirm("Block "+c.Title+"?", "They won't be able to message you. They won't be told you blocked them.", "Block", func() {
					u.act("block", func(ctx context.Context) error { return u.svc.Block(ctx, peer) }, p.reload)
				})
			})
			b.Importance = widget.DangerImportance
			add(b)
		}
		rl := "Restrict"
		if person.Restricted {
			rl = "Unrestrict"
		}
		add(widget.NewButton(rl, func() {
			u.act("restrict", func(ctx context.Context) error { return u.svc.Restrict(ctx, peer, !person.Restricted) }, p.reload)
		}))
	}
	add(widget.NewButton("Report", func() { p.report() }))
	del := widget.NewButton("Delete chat", func() {
		u.confirm("Delete chat?", "This removes the messages from this device only.", "Delete", func() {
			u.act("delete the chat", func(ctx context.Context) error { return u.svc.DeleteConversation(ctx, id) }, func() { u.showEmpty() })
		})
	})
	del.Importance = widget.DangerImportance
	add(del)
	p.body.Refresh()
}

func (p *infoPanel) groupSection(members []app.Member) {
	u, c := p.u, p.c
	id := c.ID
	add := func(o ...fyne.CanvasObject) { p.body.Objects = append(p.body.Objects, o...) }
	add(section("Group"))
	iAmAdmin := false
	for _, m := range members {
		if m.Key == u.me && m.Admin {
			iAmAdmin = true
		}
	}
	if !c.Left {
		nameE := widget.NewEntry()
		nameE.SetText(c.Title)
		rename := widget.NewButton("Rename", func() {
			n := nameE.Text
			u.act("rename the group", func(ctx context.Context) error { _, err := u.svc.RenameGroup(ctx, id, n); return err }, p.reload)
		})
		add(container.NewBorder(nil, nil, nil, rename, nameE))
	}
	add(widget.NewLabel(plural(len(members), "member", "members")))
	for _, m := range members {
		m := m
		av := u.newAvatar(36)
		nm := m.Name
		if nm == "" {
			nm = u.name(m.Key)
		}
		if m.Key == u.me {
			nm += " (you)"
		}
		av.set(m.Key[:], nm, false)
		sub := ""
		if m.Admin {
			sub = "Admin"
		}
		var right fyne.CanvasObject = layout.NewSpacer()
		if iAmAdmin && m.Key != u.me && !c.Left {
			var more *widget.Button
			more = iconButton(theme.MoreHorizontalIcon(), func() {
				items := []*fyne.MenuItem{fyne.NewMenuItem("Remove from group", func() {
					u.act("remove the member", func(ctx context.Context) error {
						_, err := u.svc.RemoveMembers(ctx, id, []app.PeerKey{m.Key})
						return err
					}, p.reload)
				})}
				if !m.Admin {
					items = append(items, fyne.NewMenuItem("Make admin", func() {
						u.act("make them admin", func(ctx context.Context) error {
							_, err := u.svc.PromoteAdmin(ctx, id, m.Key)
							return err
						}, p.reload)
					}))
				}
				widget.ShowPopUpMenuAtRelativePosition(fyne.NewMenu("", items...), u.win.Canvas(), fyne.NewPos(0, more.Size().Height), more)
			})
			right = more
		}
		add(container.NewBorder(nil, nil, container.NewCenter(av), right, compactVBox(widget.NewLabel(nm), caption(sub))))
	}
	if iAmAdmin && !c.Left {
		add(widget.NewButton("Add people", func() { p.addPeople(members) }))
	}
	if !c.Left {
		leave := widget.NewButton("Leave group", func() {
			u.confirm("Leave group?", "You won't get messages from this group any more.", "Leave", func() {
				u.act("leave the group", func(ctx context.Context) error { _, err := u.svc.LeaveGroup(ctx, id); return err }, p.reload)
			})
		})
		leave.Importance = widget.DangerImportance
		add(leave)
	}
}

func (p *infoPanel) addPeople(members []app.Member) {
	u := p.u
	id := p.c.ID
	in := make(map[app.PeerKey]bool)
	for _, m := range members {
		in[m.Key] = true
	}
	pick := newPicker(app.MaxRecipients)
	pick.avatars = u.avatars
	d := dialog.NewCustomConfirm("Add people", "Add", "Cancel", pick.root, func(ok bool) {
		if !ok || len(pick.chosen) == 0 {
			return
		}
		keys := append([]app.PeerKey(nil), pick.chosen...)
		u.act("add people", func(ctx context.Context) error { _, err := u.svc.AddMembers(ctx, id, keys); return err }, p.reload)
	}, u.win)
	d.Resize(fyne.NewSize(420, 480))
	d.Show()
	u.async("list your contacts", func(ctx context.Context) (func(), error) {
		cs, err := u.candidates(ctx)
		if err != nil {
			return nil, err
		}
		var out []candidate
		for _, c := range cs {
			if !in[c.key] && !c.nearby {
				out = append(out, c)
			}
		}
		return func() { pick.setCandidates(out) }, nil
	})
}

func (p *infoPanel) report() {
	u := p.u
	id := p.c.ID
	reasons := []string{"Spam", "Scam or fraud", "Harassment", "Hate speech", "Something else"}
	sel := widget.NewRadioGroup(reasons, nil)
	sel.SetSelected(reasons[0])
	note := caption("The report is saved on this device with the newest messages of this chat.")
	d := dialog.NewCustomConfirm("Report", "Report", "Cancel", container.NewVBox(sel, note), func(ok bool) {
		if !ok {
			return
		}
		reason := sel.Selected
		u.act("report", func(ctx context.Context) error { return u.svc.Report(ctx, id, reason) }, func() {
			dialog.ShowInformation("Reported", "Thanks. The report is saved.", u.win)
		})
	}, u.win)
	d.Show()
}

// reload re-reads the conversation and rebuilds the panel if it is shown.
func (p *infoPanel) reload() {
	u := p.u
	id := p.c.ID
	u.async("read the chat details", func(ctx context.Context) (func(), error) {
		c, err := u.svc.Conversation(ctx, id)
		if err != nil {
			return nil, err
		}
		ms, err := u.svc.Members(ctx, id)
		if err != nil {
			return nil, err
		}
		var person app.Person
		if c.Kind == app.Direct {
			person, _ = u.svc.Person(ctx, c.Peer)
		}
		return func() {
			p.c = c
			p.build(ms, person)
			if u.conv.id == id {
				u.conv.c = c
				u.conv.refreshHeader()
				u.conv.refreshBottom()
				u.conv.rebuild(false)
			}
		}, nil
	})
}

func formRow(label string, o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, widget.NewLabel(label), nil, container.NewHBox(layout.NewSpacer(), o))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}
