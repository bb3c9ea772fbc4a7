package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // photos may be GIFs
	"image/jpeg"
	_ "image/png" // and PNGs
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/app/audio"
	"kite/app/media"
)

// blockKind is what a message shows above its text: a picture, a card or
// nothing.
type blockKind uint8

const (
	blockNone blockKind = iota
	blockPhoto
	blockFile // a video or any other file
	blockVoice
	blockOnce // view-once photo or video
	blockLocation
	blockLink
	blockContact
	blockHashtag
)

// Sizes of the blocks in a bubble.
const (
	photoMaxW = 280.0
	photoMaxH = 360.0
	photoMinW = 120.0
	cardW     = 280.0
	blockPad  = 6.0
	// fullSide is the longest side of the picture shown for a photo,
	// twice the bubble for sharp pictures on HiDPI screens.
	fullSide = 720
)

// blockOf says which block m shows.
func blockOf(m app.Message) blockKind {
	if m.Unsent || m.Expired {
		return blockNone
	}
	if md := m.Media; md != nil {
		switch {
		case md.Mode != app.ModeKeep:
			return blockOnce
		case isVoice(md):
			return blockVoice
		case strings.HasPrefix(md.MIME, "image/"):
			return blockPhoto
		}
		return blockFile
	}
	if sh := m.Share; sh != nil {
		switch sh.Type {
		case "location":
			return blockLocation
		case "link":
			return blockLink
		case "contact":
			return blockContact
		case "hashtag":
			return blockHashtag
		}
	}
	return blockNone
}

// isVoice: an audio recording made in the app, or any sound named so.
func isVoice(md *app.Media) bool {
	return strings.HasPrefix(md.MIME, "audio/")
}

// blockCaption is the text under a block.
func blockCaption(m app.Message) string {
	switch {
	case m.Media != nil:
		return m.Media.Caption
	case m.Share != nil:
		return m.Share.Caption
	}
	return ""
}

// mediaWhat names a media message's content: Photo, Video, Voice message, File.
func mediaWhat(md *app.Media) string {
	switch {
	case strings.HasPrefix(md.MIME, "image/"):
		return "Photo"
	case strings.HasPrefix(md.MIME, "video/"):
		return "Video"
	case isVoice(md):
		return "Voice message"
	}
	return "File"
}

// photoSize is the size of a photo in its bubble: at most photoMaxW wide
// and photoMaxH high, keeping the aspect of the picture.
func photoSize(w, h int) fyne.Size {
	if w <= 0 || h <= 0 {
		return fyne.NewSize(photoMaxW, 200)
	}
	s := fyne.NewSize(float32(w), float32(h))
	if s.Width > photoMaxW {
		s = fyne.NewSize(photoMaxW, s.Height*photoMaxW/s.Width)
	}
	if s.Height > photoMaxH {
		s = fyne.NewSize(s.Width*photoMaxH/s.Height, photoMaxH)
	}
	if s.Width < photoMinW {
		s.Width = photoMinW
	}
	return s
}

// decodeJPEG decodes an inline thumbnail; nil when it is not one.
func decodeJPEG(b []byte) image.Image {
	if len(b) == 0 || len(b) > media.MaxThumbBytes {
		return nil
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width*cfg.Height > 4*media.ThumbSide*media.ThumbSide {
		return nil
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return img
}

// fmtDuration writes 0:42 or 1:02:03.
func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// mediaView is the block of one media or share message: built once per
// message, on the UI thread, and placed in whichever row shows it.
type mediaView struct {
	v    *convView
	m    app.Message
	kind blockKind
	root fyne.CanvasObject
	size fyne.Size

	// Photos, files and voice: the blob and its transfer.
	img      *canvas.Image
	complete bool
	path     string
	overlay  *fyne.Container // progress or error over a photo
	bar      *widget.ProgressBar
	status   *widget.Label
	open     *widget.Button
	save     *widget.Button

	// Voice.
	play    *widget.Button
	pos     *lineBar
	dur     *widget.Label
	playing context.CancelFunc

	// View-once.
	state  string
	stateL *widget.Label
	view   *widget.Button

	// Contact cards.
	add *widget.Button
}

// inset is the margin around the block inside its bubble: none for a
// photo, which fills the bubble.
func (mv *mediaView) inset() float32 {
	if mv.kind == blockPhoto {
		return 0
	}
	return blockPad
}

// outerW is the width of the bubble around the block.
func (mv *mediaView) outerW() float32 { return mv.size.Width + 2*mv.inset() }

// bubbleHeight is the height of a row's bubble: its block, if any, and
// its lines of text.
func bubbleHeight(r chatRow, lineH float32) float32 {
	text := float32(len(r.lines)) * lineH
	if r.block == nil {
		return text + 2*bubblePadY
	}
	in := r.block.inset()
	if len(r.lines) == 0 {
		return 2*in + r.block.size.Height
	}
	return in + r.block.size.Height + bubblePadY/2 + text + bubblePadY
}

// mediaViewOf returns the block of m, building it the first time.
func (v *convView) mediaViewOf(m app.Message) *mediaView {
	if mv, ok := v.media[m.ID]; ok {
		if mv.m.Media != nil && m.Media != nil && mv.m.Media.Opened != m.Media.Opened {
			mv.m = m
			mv.refreshOnce()
		}
		mv.m = m
		return mv
	}
	mv := newMediaView(v, m)
	v.media[m.ID] = mv
	return mv
}

// stopMedia ends what the blocks of the open conversation are doing.
func (v *convView) stopMedia() {
	for _, mv := range v.media {
		if mv.playing != nil {
			mv.playing()
		}
	}
	v.media = make(map[app.EventID]*mediaView)
}

func newMediaView(v *convView, m app.Message) *mediaView {
	mv := &mediaView{v: v, m: m, kind: blockOf(m)}
	switch mv.kind {
	case blockPhoto:
		mv.buildPhoto()
	case blockFile:
		mv.buildFile()
	case blockVoice:
		mv.buildVoice()
	case blockOnce:
		mv.buildOnce()
	case blockLocation:
		mv.buildLocation()
	case blockLink:
		mv.buildLink()
	case blockContact:
		mv.buildContact()
	case blockHashtag:
		mv.buildHashtag()
	}
	if mv.root == nil {
		mv.root = container.NewStack()
	}
	if mv.size.IsZero() {
		mv.size = fyne.NewSize(cardW, mv.root.MinSize().Height)
	}
	switch mv.kind {
	case blockPhoto, blockFile, blockVoice:
		mv.checkBlob()
	case blockOnce:
		mv.checkOnce()
	}
	return mv
}

// The transfer status line of a blob: a bar while it moves, words
// otherwise.
func (mv *mediaView) newStatus() fyne.CanvasObject {
	mv.bar = widget.NewProgressBar()
	mv.bar.TextFormatter = func() string { return "" }
	mv.bar.Hide()
	mv.status = caption("Waiting for sender")
	mv.status.Wrapping = fyne.TextWrapOff
	mv.status.Truncation = fyne.TextTruncateEllipsis
	if mv.m.Author == mv.v.u.me {
		mv.status.Hide() // one's own file is normally here already
	}
	return container.NewVBox(mv.bar, mv.status)
}

func (mv *mediaView) buildPhoto() {
	md := mv.m.Media
	w, h := md.Width, md.Height
	thumb := decodeJPEG(md.Thumbnail)
	if (w <= 0 || h <= 0) && thumb != nil {
		w, h = thumb.Bounds().Dx(), thumb.Bounds().Dy()
	}
	mv.size = photoSize(w, h)
	if thumb != nil {
		mv.img = canvas.NewImageFromImage(thumb)
	} else {
		mv.img = canvas.NewImageFromResource(theme.NewThemedResource(photoIcon))
	}
	mv.img.FillMode = canvas.ImageFillContain
	if thumb != nil {
		mv.img.FillMode = canvas.ImageFillStretch
	}
	mv.img.ScaleMode = canvas.ImageScaleSmooth
	mv.img.CornerRadius = 14
	bg := canvas.NewRectangle(paletteFor(mv.v.u.app).other)
	bg.CornerRadius = 14
	status := mv.newStatus()
	plate := canvas.NewRectangle(withAlpha(paletteFor(mv.v.u.app).bg, 0xe6))
	plate.CornerRadius = 8
	mv.overlay = container.NewVBox(layout.NewSpacer(), container.NewPadded(container.NewStack(plate, container.NewPadded(status))))
	mv.overlay.Hide()
	tap := newTapArea(container.NewStack(bg, mv.img), mv.openFile)
	tap.noHover = true
	mv.root = container.NewStack(tap, mv.overlay)
}

func (mv *mediaView) buildFile() {
	md := mv.m.Media
	name := widget.NewLabel(md.Name)
	if md.Name == "" {
		name.SetText(mediaWhat(md))
	}
	name.TextStyle = fyne.TextStyle{Bold: true}
	name.Truncation = fyne.TextTruncateEllipsis
	meta := []string{mediaWhat(md), humanBytes(int64(md.Size))}
	if md.DurationMs > 0 {
		meta = append(meta, fmtDuration(time.Duration(md.DurationMs)*time.Millisecond))
	}
	info := caption(strings.Join(meta, " · "))
	info.Wrapping = fyne.TextWrapOff
	icon := theme.FileIcon()
	if strings.HasPrefix(md.MIME, "video/") {
		icon = theme.MediaVideoIcon()
	}
	mv.open = widget.NewButtonWithIcon("Open", theme.FileIcon(), mv.openFile)
	mv.save = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), mv.saveFile)
	mv.open.Disable()
	mv.save.Disable()
	status := mv.newStatus()
	head := container.NewBorder(nil, nil, container.NewCenter(withWidth(32, widget.NewIcon(icon))), nil, compactVBox(name, info))
	mv.root = container.NewVBox(head, status, container.NewGridWithColumns(2, mv.open, mv.save))
	mv.size = fyne.NewSize(cardW, mv.root.MinSize().Height)
}

func (mv *mediaView) buildVoice() {
	md := mv.m.Media
	mv.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), mv.togglePlay)
	mv.play.Importance = widget.LowImportance
	mv.pos = newLineBar()
	d := time.Duration(md.DurationMs) * time.Millisecond
	mv.dur = caption(fmtDuration(d))
	mv.dur.Wrapping = fyne.TextWrapOff
	mv.status = caption("")
	mv.status.Wrapping = fyne.TextWrapOff
	mv.status.Truncation = fyne.TextTruncateEllipsis
	mv.status.Hide()
	mv.bar = widget.NewProgressBar()
	mv.bar.Hide()
	row := container.NewBorder(nil, nil, mv.play, mv.dur, mv.pos)
	mv.root = container.NewVBox(row, mv.status)
	mv.size = fyne.NewSize(260, mv.root.MinSize().Height)
}

func (mv *mediaView) buildOnce() {
	md := mv.m.Media
	what := mediaWhat(md) + " · View once"
	if md.Mode == app.ModeAllowReplay {
		what = mediaWhat(md) + " · Allow replay"
	}
	title := widget.NewLabel(what)
	title.TextStyle = fyne.TextStyle{Bold: true}
	mv.stateL = caption("")
	mv.stateL.Wrapping = fyne.TextWrapOff
	icon := widget.NewIcon(theme.VisibilityIcon())
	head := container.NewBorder(nil, nil, container.NewCenter(withWidth(32, icon)), nil, compactVBox(title, mv.stateL))
	mv.view = widget.NewButton("Tap to view", mv.viewOnce)
	mv.view.Hide()
	mv.root = container.NewVBox(head, mv.view)
	if mv.m.Author == mv.v.u.me {
		mv.root = head
	}
	mv.size = fyne.NewSize(240, container.NewVBox(head, mv.view).MinSize().Height)
	mv.refreshOnce()
}

func (mv *mediaView) buildLocation() {
	sh := mv.m.Share
	label := sh.Label
	if label == "" {
		label = "Location"
	}
	title := widget.NewLabel(label)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Truncation = fyne.TextTruncateEllipsis
	coords := caption(fmt.Sprintf("%.5f, %.5f", sh.Latitude, sh.Longitude))
	coords.Wrapping = fyne.TextWrapOff
	link := media.OSMLink(sh.Latitude, sh.Longitude)
	btn := widget.NewButtonWithIcon("Open map", theme.NewThemedResource(pinIcon), func() { mv.v.u.openURL(link) })
	if link == "" {
		btn.Disable()
	}
	head := container.NewBorder(nil, nil, container.NewCenter(withWidth(32, widget.NewIcon(theme.NewThemedResource(pinIcon)))), nil, compactVBox(title, coords))
	mv.root = container.NewVBox(head, btn)
}

func (mv *mediaView) buildLink() {
	sh := mv.m.Share
	var l fyne.CanvasObject
	if u, err := url.Parse(sh.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		h := widget.NewHyperlink(ellipsize(sh.Link, 60), u)
		h.Truncation = fyne.TextTruncateEllipsis
		h.OnTapped = func() { mv.v.u.openURL(sh.Link) }
		l = h
	} else {
		lb := widget.NewLabel(sh.Link)
		lb.Truncation = fyne.TextTruncateEllipsis
		l = lb
	}
	host := ""
	if u, err := url.Parse(sh.Link); err == nil {
		host = u.Hostname()
	}
	head := container.NewBorder(nil, nil, container.NewCenter(withWidth(32, widget.NewIcon(theme.ComputerIcon()))), nil, compactVBox(l, caption(host)))
	mv.root = head
	mv.size = fyne.NewSize(300, head.MinSize().Height)
}

func (mv *mediaView) buildContact() {
	sh := mv.m.Share
	u := mv.v.u
	name := sh.Name
	if name == "" {
		name = "Contact"
	}
	av := u.newAvatar(40)
	av.set([]byte(sh.Code), name, false)
	title := widget.NewLabel(name)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Truncation = fyne.TextTruncateEllipsis
	code := sh.Code
	mv.add = widget.NewButtonWithIcon("Add contact", theme.ContentAddIcon(), nil)
	mv.add.OnTapped = func() {
		mv.add.Disable()
		u.async("add the contact", func(ctx context.Context) (func(), error) {
			p, err := u.svc.AddContact(ctx, code)
			if err != nil {
				u.do(mv.add.Enable)
				return nil, err
			}
			return func() {
				u.people[p.Key] = p
				mv.add.SetText("Added")
			}, nil
		})
	}
	if code == "" {
		mv.add.Disable()
	}
	head := container.NewBorder(nil, nil, container.NewCenter(av), nil, compactVBox(title, caption("Contact")))
	mv.root = container.NewVBox(head, mv.add)
}

func (mv *mediaView) buildHashtag() {
	tag := "#" + strings.TrimPrefix(mv.m.Share.Hashtag, "#")
	h := widget.NewHyperlink(tag, nil)
	h.OnTapped = func() { mv.v.u.searchFor(tag) }
	mv.root = h
	mv.size = fyne.NewSize(fyne.Max(fyne.MeasureText(tag, theme.TextSize(), fyne.TextStyle{}).Width+24, 80), h.MinSize().Height)
}

// withAlpha is c at opacity a.
func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// openURL opens a web address with the system's browser.
func (u *UI) openURL(link string) {
	p, err := url.Parse(link)
	if err != nil || link == "" {
		return
	}
	if err := u.app.OpenURL(p); err != nil {
		u.showError("open the link", err)
	}
}

// searchFor searches messages for s from the inbox's search field.
func (u *UI) searchFor(s string) {
	if u.inbox == nil {
		return
	}
	u.inbox.search.SetText(s)
	if u.win != nil {
		u.win.Canvas().Focus(u.inbox.search)
	}
}

// checkBlob asks whether the blob is here, and how far its transfer got.
func (mv *mediaView) checkBlob() {
	u := mv.v.u
	id, h := mv.m.ID, mv.m.Media.Hash
	u.async("read the file", func(ctx context.Context) (func(), error) {
		path, err := u.svc.MediaFile(ctx, id)
		if err == nil {
			return func() { mv.blobHere(path) }, nil
		}
		for _, t := range u.svc.Transfers() {
			if t.Hash == h {
				up := app.Update{Kind: app.UpdTransfer, Hash: h, Done: t.Done, Total: t.Total}
				if t.Error != "" {
					up.Err = errors.New(t.Error)
				}
				return func() { mv.transfer(up) }, nil
			}
		}
		return func() { mv.waiting() }, nil
	})
}

func (mv *mediaView) waiting() {
	if mv.complete {
		return
	}
	mv.setStatus("Waiting for sender", false)
	mv.bar.Hide()
}

// setStatus shows a status line; bad makes it an error.
func (mv *mediaView) setStatus(s string, bad bool) {
	if mv.status == nil {
		return
	}
	mv.status.Importance = widget.LowImportance
	if bad {
		mv.status.Importance = widget.DangerImportance
	}
	mv.status.SetText(s)
	if s == "" {
		mv.status.Hide()
	} else {
		mv.status.Show()
	}
	defer mv.resize()
	if mv.overlay != nil {
		if s == "" && !mv.bar.Visible() {
			mv.overlay.Hide()
		} else {
			mv.overlay.Show()
		}
	}
}

// resize fits a card to what it shows now (a status line came or went)
// and lays the rows out again when its height changed.
func (mv *mediaView) resize() {
	if mv.kind != blockFile && mv.kind != blockVoice {
		return
	}
	h := mv.root.MinSize().Height
	if h == mv.size.Height {
		return
	}
	mv.size.Height = h
	if _, shown := mv.v.media[mv.m.ID]; shown {
		mv.v.rebuild(mv.v.atBottom())
	}
}

// transfer shows how far the blob's transfer got.
func (mv *mediaView) transfer(up app.Update) {
	if mv.complete {
		return
	}
	switch {
	case up.Err != nil:
		mv.bar.Hide()
		mv.setStatus("Download failed: "+app.Plain(up.Err), true)
	case up.Total > 0 && up.Done >= up.Total:
		mv.bar.SetValue(1)
		mv.checkBlob()
	case up.Total > 0:
		mv.bar.Show()
		mv.bar.SetValue(float64(up.Done) / float64(up.Total))
		mv.setStatus(fmt.Sprintf("%s of %s", humanBytes(up.Done), humanBytes(up.Total)), false)
	default:
		mv.bar.Hide()
		mv.setStatus("Starting download…", false)
	}
}

// blobHere: the file is complete at path.
func (mv *mediaView) blobHere(path string) {
	mv.complete, mv.path = true, path
	if mv.bar != nil {
		mv.bar.Hide()
	}
	mv.setStatus("", false)
	if mv.open != nil {
		mv.open.Enable()
		mv.save.Enable()
	}
	mv.resize()
	if mv.kind == blockPhoto {
		mv.loadFull(path)
	}
}

// loadFull replaces the thumbnail by the picture, decoded off the UI
// thread with the bounds of kite/app/media.
func (mv *mediaView) loadFull(path string) {
	u := mv.v.u
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		fi, err := os.Stat(path)
		if err != nil || fi.Size() > app.MaxPhotoBytes {
			return
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return
		}
		small, err := media.Thumbnail(raw, fullSide)
		if err != nil {
			u.log.Debug("ui: decode photo", "err", err)
			return
		}
		img, err := jpeg.Decode(bytes.NewReader(small))
		if err != nil {
			return
		}
		u.do(func() {
			mv.img.Resource = nil
			mv.img.Image = img
			mv.img.FillMode = canvas.ImageFillStretch
			mv.img.Refresh()
		})
	}()
}

// openFile opens the file with the system's default application.
func (mv *mediaView) openFile() {
	u := mv.v.u
	id := mv.m.ID
	u.async("open the file", func(ctx context.Context) (func(), error) {
		path, err := u.svc.MediaFile(ctx, id)
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		return func() {
			if err := u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}); err != nil {
				u.showError("open the file", err)
			}
		}, nil
	})
}

// saveFile asks where to save the file, then copies it there.
func (mv *mediaView) saveFile() { mv.v.u.saveMedia(mv.m) }

func (u *UI) saveMedia(m app.Message) {
	if u.win == nil || m.Media == nil {
		return
	}
	id := m.ID
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		dst := w.URI().Path()
		w.Close()
		u.act("save the file", func(ctx context.Context) error { return u.svc.SaveMedia(ctx, id, dst) }, nil)
	}, u.win)
	d.SetFileName(m.Media.Name)
	d.Show()
}

// togglePlay plays a voice message, or stops it.
func (mv *mediaView) togglePlay() {
	u := mv.v.u
	if mv.playing != nil {
		mv.playing()
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	mv.playing = cancel
	mv.play.SetIcon(theme.MediaStopIcon())
	mv.status.Hide()
	id := mv.m.ID
	backend := u.audio
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer cancel()
		err := func() error {
			path, err := u.svc.MediaFile(ctx, id)
			if err != nil {
				return err
			}
			wav, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return audio.Play(ctx, backend, wav, func(el, total time.Duration) {
				u.do(func() {
					if total > 0 {
						mv.pos.SetValue(float64(el) / float64(total))
					}
					mv.dur.SetText(fmtDuration(el))
				})
			})
		}()
		u.do(func() {
			mv.playing = nil
			mv.play.SetIcon(theme.MediaPlayIcon())
			mv.pos.SetValue(0)
			mv.dur.SetText(fmtDuration(time.Duration(mv.m.Media.DurationMs) * time.Millisecond))
			switch {
			case err == nil, errors.Is(err, context.Canceled):
			case errors.Is(err, audio.ErrNoDevice):
				mv.setStatus("No speaker found", true)
			default:
				mv.setStatus(app.Plain(err), true)
			}
		})
	}()
}

// checkOnce reads the state of view-once media.
func (mv *mediaView) checkOnce() {
	u := mv.v.u
	id := mv.m.ID
	u.async("read the view-once state", func(ctx context.Context) (func(), error) {
		st := u.svc.EphemeralState(id)
		return func() { mv.state = st; mv.refreshOnce() }, nil
	})
}

// onceText is what a view-once bubble says of its state.
func onceText(st string, mine, opened bool, mode int) string {
	if mine {
		switch {
		case opened || st == app.EphemeralViewed:
			return "Opened"
		case st == app.EphemeralExpired:
			return "Expired"
		}
		return "Not opened yet"
	}
	switch st {
	case app.EphemeralReady:
		return "Tap to view"
	case app.EphemeralViewed:
		return "Opened"
	case app.EphemeralExpired:
		return "Expired"
	}
	return "Loading…"
}

func (mv *mediaView) refreshOnce() {
	if mv.stateL == nil {
		return
	}
	mine := mv.m.Author == mv.v.u.me
	t := onceText(mv.state, mine, mv.m.Media.Opened, mv.m.Media.Mode)
	mv.stateL.SetText(t)
	if mine {
		return
	}
	switch mv.state {
	case app.EphemeralReady:
		mv.view.SetText("View")
		mv.view.Importance = widget.HighImportance
		mv.view.Enable()
		mv.view.Show()
	case app.EphemeralWaiting, "":
		mv.view.SetText("Try now")
		mv.view.Importance = widget.MediumImportance
		mv.view.Enable()
		mv.view.Show()
	default:
		mv.view.Hide()
	}
	mv.view.Refresh()
}

// viewOnce opens view-once media in its viewer window.
func (mv *mediaView) viewOnce() {
	u := mv.v.u
	id, m := mv.m.ID, mv.m
	if !strings.HasPrefix(m.Media.MIME, "image/") {
		// Viewing would use up the view: say so before, not after.
		u.showError("play the video", app.Userf(app.ErrInvalid, "Kite cannot play view-once videos yet. It stays unopened, so you can view it in a later version."))
		return
	}
	mv.view.Disable()
	u.async("show the view-once "+strings.ToLower(mediaWhat(m.Media)), func(ctx context.Context) (func(), error) {
		data, release, err := u.svc.ViewEphemeral(ctx, id)
		if err != nil {
			u.do(mv.checkOnce)
			return nil, err
		}
		img, err := decodeBounded(data)
		if err != nil {
			u.log.Debug("ui: decode view-once", "err", err)
		}
		return func() {
			u.showOnceViewer(m, img, release)
			mv.checkOnce()
		}, nil
	})
}

// mediaMoved applies transfer progress and view-once changes to the
// blocks of the open conversation.
func (v *convView) mediaMoved(transfers map[app.Hash]app.Update, ephemeral map[app.EventID]bool) {
	for _, mv := range v.media {
		switch mv.kind {
		case blockPhoto, blockFile, blockVoice:
			if up, ok := transfers[mv.m.Media.Hash]; ok {
				mv.transfer(up)
			}
		case blockOnce:
			if ephemeral[mv.m.ID] {
				mv.checkOnce()
			}
		}
	}
}

// dropped sends files dropped on the window to the open conversation.
func (u *UI) dropped(_ fyne.Position, uris []fyne.URI) {
	if u.conv == nil || u.conv.id.IsZero() || u.page != "chat" || len(u.conv.bottom.Objects) == 0 || u.conv.bottom.Objects[0] != u.conv.compose.root {
		return
	}
	for _, uri := range uris {
		if uri.Scheme() != "file" {
			continue
		}
		u.conv.compose.sendFile(uri.Path(), app.MediaOptions{})
	}
}

// photoFilter limits the file dialog to pictures and videos.
var photoFilter = storage.NewExtensionFileFilter([]string{
	".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".mp4", ".mov", ".m4v", ".webm", ".mkv",
	".JPG", ".JPEG", ".PNG", ".GIF", ".WEBP", ".HEIC", ".MP4", ".MOV",
})

// stillFilter limits the file dialog to pictures.
var stillFilter = storage.NewExtensionFileFilter([]string{
	".jpg", ".jpeg", ".png", ".gif", ".webp", ".JPG", ".JPEG", ".PNG", ".GIF", ".WEBP",
})

// lineBar is a slim position bar: a track and the part played.
type lineBar struct {
	widget.BaseWidget
	Value       float64
	track, fill *canvas.Rectangle
}

func newLineBar() *lineBar {
	b := &lineBar{track: canvas.NewRectangle(color.Transparent), fill: canvas.NewRectangle(bubbleBlue)}
	b.track.CornerRadius, b.fill.CornerRadius = 2, 2
	b.ExtendBaseWidget(b)
	return b
}

// SetValue sets the part played, 0 to 1.
func (b *lineBar) SetValue(v float64) {
	b.Value = max(0, min(v, 1))
	b.Refresh()
}

func (b *lineBar) MinSize() fyne.Size { return fyne.NewSize(40, 4) }

func (b *lineBar) CreateRenderer() fyne.WidgetRenderer { return &lineBarRenderer{b} }

type lineBarRenderer struct{ b *lineBar }

func (r *lineBarRenderer) Layout(s fyne.Size) {
	y := (s.Height - 4) / 2
	r.b.track.Move(fyne.NewPos(0, y))
	r.b.track.Resize(fyne.NewSize(s.Width, 4))
	r.b.fill.Move(fyne.NewPos(0, y))
	r.b.fill.Resize(fyne.NewSize(s.Width*float32(r.b.Value), 4))
}
func (r *lineBarRenderer) MinSize() fyne.Size { return r.b.MinSize() }
func (r *lineBarRenderer) Refresh() {
	r.b.track.FillColor = paletteFor(fyne.CurrentApp()).sep
	r.Layout(r.b.Size())
	r.b.track.Refresh()
	r.b.fill.Refresh()
}
func (r *lineBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.track, r.b.fill}
}
func (r *lineBarRenderer) Destroy() {}
