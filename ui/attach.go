package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/app/audio"
)

// recordRed is the dot of a recording in progress.
var recordRed = rgb(0xed, 0x49, 0x56)

// attachItems are the entries of the attachment menu.
func (c *composer) attachItems() []*fyne.MenuItem {
	pick := func(filter storage.FileFilter, opts app.MediaOptions) func() {
		return func() { c.pickFile(filter, opts) }
	}
	return []*fyne.MenuItem{
		fyne.NewMenuItemWithIcon("Photo or video", theme.NewThemedResource(photoIcon), pick(photoFilter, app.MediaOptions{})),
		fyne.NewMenuItemWithIcon("File", theme.FileIcon(), pick(nil, app.MediaOptions{})),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItemWithIcon("View once photo", theme.VisibilityIcon(), pick(stillFilter, app.MediaOptions{Mode: app.ModeViewOnce})),
		fyne.NewMenuItemWithIcon("Allow-one-replay photo", theme.MediaReplayIcon(), pick(stillFilter, app.MediaOptions{Mode: app.ModeAllowReplay})),
	}
}

// showAttach opens the attachment menu above its button.
func (c *composer) showAttach() {
	u := c.v.u
	if u.win == nil {
		return
	}
	menu := widget.NewPopUpMenu(fyne.NewMenu("", c.attachItems()...), u.win.Canvas())
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.attach)
	size := menu.MinSize()
	menu.ShowAtPosition(fyne.NewPos(pos.X+c.attach.Size().Width-size.Width, pos.Y-size.Height-4))
}

// pickFile asks for a file, then sends it with opts.
func (c *composer) pickFile(filter storage.FileFilter, opts app.MediaOptions) {
	u := c.v.u
	if u.win == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError("open the file", err)
			return
		}
		if r == nil {
			return // cancelled
		}
		path := r.URI().Path()
		r.Close()
		c.sendFile(path, opts)
	}, u.win)
	if filter != nil {
		d.SetFilter(filter)
	}
	d.Resize(fyne.NewSize(760, 520))
	d.Show()
}

// sendFile sends the file at path to the open chat, as a reply when one
// is being written.
func (c *composer) sendFile(path string, opts app.MediaOptions) {
	u := c.v.u
	conv := c.v.id
	if opts.ReplyTo.IsZero() && !c.reply.IsZero() {
		opts.ReplyTo = c.reply
		c.reply = app.EventID{}
		c.banner.Hide()
	}
	u.async("send "+filepath.Base(path), func(ctx context.Context) (func(), error) {
		if _, err := u.svc.SendFile(ctx, conv, path, opts); err != nil {
			return nil, err
		}
		return func() { c.sent(conv) }, nil
	})
}

// sent shows what was just sent.
func (c *composer) sent(conv app.ConvID) {
	if c.v.id == conv {
		c.v.pill.Hide()
		c.v.load(false)
		c.v.list.ScrollToBottom()
	}
}

// voice is a voice message being recorded.
type voice struct {
	rec     *audio.Recorder
	recConv app.ConvID
	started time.Time
	stopped chan struct{} // closed when this recording ends
	recBar  *fyne.Container
	elapsed *widget.Label
}

func (c *composer) newRecordBar() *fyne.Container {
	c.elapsed = widget.NewLabel("0:00")
	dot := newDot(recordRed, 12)
	cancel := widget.NewButtonWithIcon("Cancel", theme.DeleteIcon(), c.cancelVoice)
	cancel.Importance = widget.LowImportance
	send := widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() { c.stopVoice(true) })
	send.Importance = widget.HighImportance
	left := container.NewHBox(container.NewCenter(dot), c.elapsed, caption("Recording…"))
	return container.NewBorder(nil, nil, left, container.NewHBox(cancel, send))
}

// startVoice starts recording a voice message.
func (c *composer) startVoice() {
	u := c.v.u
	if c.rec != nil {
		return
	}
	c.mic.Disable()
	conv := c.v.id
	backend := u.audio
	u.async("record a voice message", func(ctx context.Context) (func(), error) {
		rec, err := audio.NewRecorder(backend)
		if err == nil {
			err = rec.Start()
		}
		if err != nil {
			u.do(c.mic.Enable)
			if errors.Is(err, audio.ErrNoDevice) {
				return nil, app.Userf(app.ErrNotFound, "No microphone was found. Connect one, or allow Kite to use it, and try again.")
			}
			return nil, err
		}
		return func() { c.recording(rec, conv) }, nil
	})
}

// recording shows the recording bar and follows the recording.
func (c *composer) recording(rec *audio.Recorder, conv app.ConvID) {
	u := c.v.u
	c.mic.Enable()
	if c.v.id != conv {
		rec.Stop()
		return
	}
	c.rec, c.recConv, c.started = rec, conv, u.now()
	stopped := make(chan struct{})
	c.stopped = stopped
	c.elapsed.SetText("0:00")
	c.box.Hide()
	c.recBar.Show()
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopped:
				return
			case <-u.ctx.Done():
				rec.Stop()
				return
			case <-rec.Done():
				// MaxVoice reached: send what there is.
				u.do(func() {
					if c.rec == rec {
						c.stopVoice(true)
					}
				})
				return
			case <-tick.C:
				u.do(func() {
					if c.rec == rec {
						c.elapsed.SetText(fmtDuration(u.now().Sub(c.started)))
					}
				})
			}
		}
	}()
}

// cancelVoice discards the recording.
func (c *composer) cancelVoice() { c.stopVoice(false) }

// stopVoice ends the recording and sends it, or discards it. The WAV is
// staged in a temporary file for SendFile, which imports it as an
// ordinary blob, and removed as soon as SendFile returns.
func (c *composer) stopVoice(send bool) {
	u := c.v.u
	rec, conv := c.rec, c.recConv
	if rec == nil {
		return
	}
	c.rec = nil
	close(c.stopped)
	c.recBar.Hide()
	c.box.Show()
	reply := c.reply
	if send {
		c.reply = app.EventID{}
		c.banner.Hide()
	}
	u.async("send the voice message", func(ctx context.Context) (func(), error) {
		wav, _, err := rec.Stop()
		if !send {
			clear(wav)
			return nil, nil
		}
		if errors.Is(err, audio.ErrNoDevice) {
			return nil, app.Userf(app.ErrNotFound, "No sound came from the microphone. Check that it is connected and not muted.")
		}
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "kite-voice-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "voice-message.wav")
		if err := os.WriteFile(path, wav, 0o600); err != nil {
			return nil, err
		}
		if _, err := u.svc.SendFile(ctx, conv, path, app.MediaOptions{Voice: true, ReplyTo: reply}); err != nil {
			return nil, err
		}
		return func() { c.sent(conv) }, nil
	})
}
