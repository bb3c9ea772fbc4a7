package ui

import (
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/assets"
)

// FirstRun shows the "create your profile" window. create makes the
// identity and profile (it runs off the UI thread); picture is the chosen
// profile photo, already made small, or nil. When it succeeds the window
// closes and done runs on the UI thread. An error is shown in plain words
// and the person can try again.
func FirstRun(a fyne.App, create func(handle, name, passphrase string, picture []byte) error, done func()) {
	a.Settings().SetTheme(&kiteTheme{mode: "system"})
	w := a.NewWindow("Welcome to Kite")
	w.SetIcon(assets.WindowIcon)
	f := newFirstRunForm(w, create, done, goSpawn)
	w.SetContent(f.root)
	w.Resize(fyne.NewSize(460, 560))
	w.CenterOnScreen()
	w.Show()
}

type firstRunForm struct {
	root    fyne.CanvasObject
	handle  *widget.Entry
	name    *widget.Entry
	pass    *widget.Entry
	confirm *widget.Entry
	msg     *widget.Label
	create  *widget.Button
	picture []byte // the chosen profile photo, made small
}

// goSpawn runs f on a new goroutine.
func goSpawn(f func()) { go f() }

// newFirstRunForm builds the form; spawn runs the slow create call (a
// goroutine; tests run it inline).
func newFirstRunForm(w fyne.Window, create func(handle, name, passphrase string, picture []byte) error, done func(), spawn func(func())) *firstRunForm {
	f := &firstRunForm{}
	logo := widget.NewIcon(assets.Icon)
	title := heading("Create your profile", 18)
	title.Alignment = fyne.TextAlignCenter
	intro := caption("Kite keeps your messages on this computer and sends them straight to your friends. No account, no server.")
	intro.Alignment = fyne.TextAlignCenter
	av := newAvatar(72)
	chosen := caption("")
	chosen.Alignment = fyne.TextAlignCenter
	avatarBt := widget.NewButtonWithIcon("Add photo", theme.NewThemedResource(photoIcon), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			spawn(func() {
				pic, err := readPicture(path)
				fyne.Do(func() {
					if err != nil {
						f.show(app.Plain(err))
						return
					}
					f.picture = pic
					chosen.SetText("Photo: " + filepath.Base(path))
				})
			})
		}, w)
		d.SetFilter(stillFilter)
		d.Resize(fyne.NewSize(440, 480))
		d.Show()
	})
	f.handle = widget.NewEntry()
	f.handle.SetPlaceHolder("handle (a-z, 0-9, . and _)")
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("Your name")
	f.pass = widget.NewPasswordEntry()
	f.pass.SetPlaceHolder("Passphrase (optional)")
	f.confirm = widget.NewPasswordEntry()
	f.confirm.SetPlaceHolder("Repeat passphrase")
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Importance = widget.DangerImportance
	f.msg.Hide()
	update := func(string) {
		n := f.name.Text
		if n == "" {
			n = f.handle.Text
		}
		av.set([]byte(f.handle.Text), n, false)
	}
	f.handle.OnChanged = update
	f.name.OnChanged = update
	update("")
	f.create = primaryButton("Create profile", nil)
	f.create.OnTapped = func() {
		h := strings.TrimPrefix(strings.TrimSpace(f.handle.Text), "@")
		if err := app.CheckHandle(h); err != nil {
			f.show(app.Plain(err))
			return
		}
		if f.pass.Text != f.confirm.Text {
			f.show("The passphrases don't match.")
			return
		}
		name, pass := strings.TrimSpace(f.name.Text), f.pass.Text
		f.create.Disable()
		f.msg.Hide()
		spawn(func() {
			err := create(h, name, pass, f.picture)
			fyne.Do(func() {
				f.create.Enable()
				if err != nil {
					f.show(app.Plain(err))
					return
				}
				w.Close()
				if done != nil {
					done()
				}
			})
		})
	}
	note := caption("A passphrase locks your keys on this computer. If you forget it, nobody can recover it.")
	form := container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(56), logo)),
		title, intro,
		container.NewCenter(av), container.NewCenter(avatarBt), chosen,
		f.handle, f.name, f.pass, f.confirm, note, f.msg, f.create)
	f.root = container.NewPadded(container.NewCenter(withWidth(380, form)))
	return f
}

func (f *firstRunForm) show(msg string) {
	f.msg.SetText(msg)
	f.msg.Show()
}

// Unlock asks for the passphrase that seals this device's keys. try
// checks it (off the UI thread); a wrong one shows its plain message and
// asks again; a right one closes the window and runs done.
func Unlock(a fyne.App, try func(passphrase string) error, done func()) {
	a.Settings().SetTheme(&kiteTheme{mode: "system"})
	w := a.NewWindow("Unlock Kite")
	w.SetIcon(assets.WindowIcon)
	f := newUnlockForm(w, try, done, goSpawn)
	w.SetContent(f.root)
	w.Resize(fyne.NewSize(420, 360))
	w.CenterOnScreen()
	w.Show()
	w.Canvas().Focus(f.pass)
}

type unlockForm struct {
	root   fyne.CanvasObject
	pass   *widget.Entry
	msg    *widget.Label
	unlock *widget.Button
}

func newUnlockForm(w fyne.Window, try func(string) error, done func(), spawn func(func())) *unlockForm {
	f := &unlockForm{}
	logo := widget.NewIcon(assets.Icon)
	title := heading("Enter your passphrase", 18)
	title.Alignment = fyne.TextAlignCenter
	f.pass = widget.NewPasswordEntry()
	f.pass.SetPlaceHolder("Passphrase")
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Importance = widget.DangerImportance
	f.msg.Alignment = fyne.TextAlignCenter
	f.msg.Hide()
	f.unlock = primaryButton("Unlock", nil)
	submit := func() {
		p := f.pass.Text
		f.unlock.Disable()
		spawn(func() {
			err := try(p)
			fyne.Do(func() {
				f.unlock.Enable()
				if err != nil {
					f.pass.SetText("")
					f.msg.SetText(unlockMessage(err))
					f.msg.Show()
					return
				}
				w.Close()
				if done != nil {
					done()
				}
			})
		})
	}
	f.unlock.OnTapped = submit
	f.pass.OnSubmitted = func(string) { submit() }
	form := container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(56), logo)),
		title, caption("Your keys are locked on this computer."), f.pass, f.msg, f.unlock)
	f.root = container.NewPadded(container.NewCenter(withWidth(320, form)))
	return f
}

// unlockMessage is what to say for a failed unlock.
func unlockMessage(err error) string {
	s := app.Plain(err)
	if strings.HasPrefix(s, "Something went wrong") {
		return "That passphrase didn't work. Try again."
	}
	return s
}
