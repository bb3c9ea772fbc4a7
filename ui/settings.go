package ui

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"kite/app"
	"kite/app/media"
)

// settingsPage is the right pane's settings.
type settingsPage struct {
	u    *UI
	root fyne.CanvasObject
	tabs *container.AppTabs
	// The profile picture and its button, for tests.
	avatar *avatar
	choose *widget.Button
}

func newSettingsPage(u *UI) *settingsPage {
	s := &settingsPage{u: u}
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Profile", s.profileTab()),
		container.NewTabItem("Privacy", s.privacyTab()),
		container.NewTabItem("Notifications", s.notificationsTab()),
		container.NewTabItem("Appearance", s.appearanceTab()),
		container.NewTabItem("Network", s.networkTab()),
		container.NewTabItem("Storage", s.storageTab()),
	)
	s.tabs.SetTabLocation(container.TabLocationLeading)
	back := iconButton(theme.NavigateBackIcon(), func() { u.showEmpty() })
	top := container.NewBorder(nil, nil, back, nil, heading("Settings", 15))
	s.root = container.NewBorder(container.NewVBox(container.NewPadded(top), widget.NewSeparator()), nil, nil, nil, s.tabs)
	return s
}

func page(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVScroll(container.NewPadded(container.NewVBox(objs...)))
}

func (s *settingsPage) profileTab() fyne.CanvasObject {
	u := s.u
	handle := widget.NewEntry()
	handle.SetText(u.profile.Handle)
	name := widget.NewEntry()
	name.SetText(u.profile.Name)
	bio := widget.NewMultiLineEntry()
	bio.SetText(u.profile.Bio)
	bio.SetMinRowsVisible(2)
	save := primaryButton("Save profile", func() {
		h, n, b := strings.TrimPrefix(strings.TrimSpace(handle.Text), "@"), name.Text, bio.Text
		u.act("save your profile", func(ctx context.Context) error {
			_, err := u.svc.SetProfile(ctx, h, n, b)
			return err
		}, nil)
	})
	form := widget.NewForm(
		widget.NewFormItem("Handle", handle),
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Bio", bio))

	code := widget.NewLabel("…")
	code.Wrapping = fyne.TextWrapBreak
	code.TextStyle = fyne.TextStyle{Monospace: true}
	qr := canvas.NewImageFromResource(nil)
	qr.FillMode = canvas.ImageFillContain
	qr.SetMinSize(fyne.NewSquareSize(200))
	var codeText string
	copyBt := widget.NewButtonWithIcon("Copy code", theme.ContentCopyIcon(), func() {
		if codeText != "" {
			u.app.Clipboard().SetContent(codeText)
		}
	})
	u.async("make your contact code", func(ctx context.Context) (func(), error) {
		var addrs []string
		if u.net != nil {
			addrs = u.net.Addrs()
		}
		c, err := u.svc.ContactCode(ctx, addrs)
		if err != nil {
			return nil, err
		}
		png, err := qrcode.Encode(c, qrcode.Medium, 512)
		if err != nil {
			u.log.Warn("ui: qr code", "err", err)
		}
		return func() {
			codeText = c
			code.SetText(c)
			if png != nil {
				qr.Resource = fyne.NewStaticResource("contact-qr.png", png)
				qr.Refresh()
			}
		}, nil
	})

	add := widget.NewMultiLineEntry()
	add.SetPlaceHolder("Paste a kite: contact code")
	add.SetMinRowsVisible(2)
	addBt := widget.NewButton("Add contact", func() {
		c := strings.TrimSpace(add.Text)
		u.async("add the contact", func(ctx context.Context) (func(), error) {
			p, err := u.svc.AddContact(ctx, c)
			if err != nil {
				return nil, err
			}
			return func() {
				add.SetText("")
				dialog.ShowInformation("Contact added", p.DisplayName()+" is now in your contacts.", u.win)
			}, nil
		})
	})
	return page(s.pictureRow(), form, container.NewHBox(save),
		section("Your contact code"),
		caption("Share it, or let a friend scan the QR code, so they can add you."),
		container.NewCenter(qr), code, container.NewHBox(copyBt),
		section("Add a contact"), add, container.NewHBox(addBt))
}

func (s *settingsPage) update(what string, f func(*app.Settings)) {
	u := s.u
	u.async(what, func(ctx context.Context) (func(), error) {
		st, err := u.svc.UpdateSettings(ctx, f)
		if err != nil {
			return nil, err
		}
		return func() { u.applySettings(st); u.updateTray() }, nil
	})
}

func (s *settingsPage) privacyTab() fyne.CanvasObject {
	st := s.u.settings
	labels := map[app.WhoCanMessage]string{app.Everyone: "Everyone", app.ContactsOnly: "Contacts only", app.Nobody: "No one new"}
	who := widget.NewRadioGroup([]string{"Everyone", "Contacts only", "No one new"}, nil)
	who.SetSelected(labels[st.WhoCanMessage])
	who.OnChanged = func(sel string) {
		for k, v := range labels {
			if v == sel {
				k := k
				s.update("change who can message you", func(x *app.Settings) { x.WhoCanMessage = k })
			}
		}
	}
	activity := widget.NewCheck("Show activity status", func(on bool) {
		s.update("change activity status", func(x *app.Settings) { x.ActivityStatus = on })
	})
	activity.Checked = st.ActivityStatus
	receipts := widget.NewCheck("Send read receipts", func(on bool) {
		s.update("change read receipts", func(x *app.Settings) { x.ReadReceipts = on })
	})
	receipts.Checked = st.ReadReceipts
	return page(heading("Who can message you", 14), who,
		caption("People who can't message you are told so plainly; requests from others wait in Requests."),
		section("Activity"), activity,
		caption("When off, you won't see others' activity status either."),
		receipts, caption("When off, people won't see when you've seen their messages, and you won't see theirs."),
		s.passphraseSection())
}

// passphraseSection sets, changes or removes the passphrase that seals
// this device's keys at rest.
func (s *settingsPage) passphraseSection() fyne.CanvasObject {
	u := s.u
	if u.passphrase == nil || u.sealed == nil {
		return widget.NewLabel("")
	}
	old, next, again := widget.NewPasswordEntry(), widget.NewPasswordEntry(), widget.NewPasswordEntry()
	old.SetPlaceHolder("Current passphrase")
	next.SetPlaceHolder("New passphrase (at least 8 characters)")
	again.SetPlaceHolder("New passphrase again")
	status := caption("")
	box := container.NewVBox()
	var build func()
	change := func(newPass string) {
		if newPass != "" && len(newPass) < 8 {
			u.showError("change the passphrase", app.Userf(app.ErrInvalid, "a passphrase needs at least 8 characters"))
			return
		}
		if newPass != again.Text && newPass != "" {
			u.showError("change the passphrase", app.Userf(app.ErrInvalid, "the two new passphrases differ"))
			return
		}
		oldPass := old.Text
		u.act("change the passphrase", func(context.Context) error {
			return u.passphrase(oldPass, newPass)
		}, func() {
			old.SetText("")
			next.SetText("")
			again.SetText("")
			build()
		})
	}
	build = func() {
		box.Objects = nil
		if u.sealed() {
			status.SetText("Your keys are sealed with a passphrase (argon2id). Kite asks for it at start.")
			box.Add(old)
			box.Add(next)
			box.Add(again)
			box.Add(container.NewHBox(
				widget.NewButton("Change passphrase", func() { change(next.Text) }),
				widget.NewButton("Remove passphrase", func() { change("") })))
		} else {
			status.SetText("Your keys are stored unsealed in the data folder. A passphrase protects them if someone copies the folder.")
			box.Add(next)
			box.Add(again)
			box.Add(widget.NewButton("Set passphrase", func() { change(next.Text) }))
		}
		box.Refresh()
	}
	build()
	return container.NewVBox(section("Passphrase"), status, box)
}

func (s *settingsPage) notificationsTab() fyne.CanvasObject {
	st := s.u.settings
	on := widget.NewCheck("Show notifications", func(v bool) {
		s.update("change notifications", func(x *app.Settings) { x.Notifications = v })
	})
	on.Checked = st.Notifications
	sound := widget.NewCheck("Sound", func(v bool) {
		s.update("change notifications", func(x *app.Settings) { x.Sound = v })
	})
	sound.Checked = st.Sound
	pause := widget.NewCheck("Pause all", func(v bool) {
		s.update("change notifications", func(x *app.Settings) { x.PauseAll = v })
	})
	pause.Checked = st.PauseAll
	return page(on, sound, pause, caption("Muted chats, General and Requests never notify."))
}

func (s *settingsPage) appearanceTab() fyne.CanvasObject {
	st := s.u.settings
	names := map[string]string{"light": "Light", "dark": "Dark", "system": "Use system setting"}
	mode := widget.NewRadioGroup([]string{"Light", "Dark", "Use system setting"}, nil)
	cur := st.Appearance
	if cur == "" {
		cur = "system"
	}
	mode.SetSelected(names[cur])
	mode.OnChanged = func(sel string) {
		for k, v := range names {
			if v == sel {
				k := k
				s.update("change the appearance", func(x *app.Settings) { x.Appearance = k })
			}
		}
	}
	return page(heading("Appearance", 14), mode)
}

func (s *settingsPage) networkTab() fyne.CanvasObject {
	u := s.u
	if u.net == nil {
		return page(widget.NewLabel("Not connected to the network."),
			caption("Kite is running without its network; messages are kept here and sent when it is back."))
	}
	var objs []fyne.CanvasObject
	objs = append(objs, heading("Your addresses", 14))
	addrs := u.net.Addrs()
	if len(addrs) == 0 {
		objs = append(objs, caption("None yet."))
	}
	for _, a := range addrs {
		l := widget.NewLabel(a)
		l.TextStyle = fyne.TextStyle{Monospace: true}
		l.Wrapping = fyne.TextWrapBreak
		objs = append(objs, l)
	}
	peerRows := func(title string, ps []Peer, empty string) {
		objs = append(objs, section(fmt.Sprintf("%s (%d)", title, len(ps))))
		if len(ps) == 0 {
			objs = append(objs, caption(empty))
		}
		for _, p := range ps {
			name := p.Name
			if name == "" {
				name = u.name(p.Key)
			}
			av := u.newAvatar(32)
			av.set(p.Key[:], name, false)
			sub := caption(strings.TrimSpace(p.Transport + "  " + p.Addr))
			sub.Wrapping = fyne.TextWrapBreak
			objs = append(objs, container.NewBorder(nil, nil, container.NewCenter(av), nil, compactVBox(widget.NewLabel(name), sub)))
		}
	}
	peerRows("Connected", u.net.Peers(), "No peers connected.")
	peerRows("Nearby", u.net.Nearby(), "No one found on this network.")
	return page(objs...)
}

func (s *settingsPage) storageTab() fyne.CanvasObject {
	u := s.u
	dir := widget.NewLabel(u.data)
	dir.Wrapping = fyne.TextWrapBreak
	dir.TextStyle = fyne.TextStyle{Monospace: true}
	size := widget.NewLabel("Measuring…")
	if u.data == "" {
		size.SetText("Unknown")
	} else {
		data := u.data
		u.async("measure storage", func(ctx context.Context) (func(), error) {
			n := dirSize(data)
			return func() { size.SetText(humanBytes(n)) }, nil
		})
	}
	return page(heading("Data folder", 14), dir, formRow("Size", size),
		caption("Your whole history lives here, on this device. Back it up like any folder."))
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// pictureRow is the profile picture with its "Choose picture…" button.
// Choosing one needs the service's Avatars; without it the button is off
// and says why.
func (s *settingsPage) pictureRow() fyne.CanvasObject {
	u := s.u
	av := u.newAvatar(72)
	av.set(u.me[:], u.name(u.me), false)
	s.avatar = av
	setter, ok := u.svc.(Avatars)
	s.choose = widget.NewButtonWithIcon("Choose picture…", theme.NewThemedResource(photoIcon), func() {
		if u.win == nil || !ok {
			return
		}
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			u.act("set your profile picture", func(ctx context.Context) error {
				data, err := readPicture(path)
				if err != nil {
					return err
				}
				_, err = setter.SetAvatar(ctx, data)
				return err
			}, func() {
				u.avatars.forget(u.me)
				av.Refresh()
			})
		}, u.win)
		d.SetFilter(stillFilter)
		d.Resize(fyne.NewSize(760, 520))
		d.Show()
	})
	note := caption("A square picture looks best.")
	if !ok {
		s.choose.Disable()
		note.SetText("Profile pictures are not available in this version yet.")
	}
	return container.NewBorder(nil, nil, container.NewCenter(av), nil,
		container.NewVBox(container.NewHBox(s.choose), note))
}

// maxPictureFile caps a picture chosen for a profile.
const maxPictureFile = 20 << 20

// readPicture reads a picture file for a profile and makes it small: a
// square-ish JPEG of at most avatarSide*2 pixels a side, decoded with the
// bounds of kite/app/media.
func readPicture(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, app.Userf(app.ErrNotFound, "cannot read %s", filepath.Base(path))
	}
	if fi.Size() > maxPictureFile {
		return nil, app.Userf(app.ErrTooLarge, "%s is %s; a profile picture is at most %s", filepath.Base(path), humanBytes(fi.Size()), humanBytes(maxPictureFile))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, app.Userf(app.ErrNotFound, "cannot read %s", filepath.Base(path))
	}
	small, err := media.Thumbnail(raw, 2*avatarSide)
	if err != nil {
		return nil, app.Userf(app.ErrInvalid, "%s is not a picture Kite can read", filepath.Base(path))
	}
	return small, nil
}
