package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/app/media"
)

// decodeBounded decodes a picture held in memory, refusing one over
// media.MaxPixels before decoding it.
func decodeBounded(data []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("ui: picture header: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > media.MaxPixels {
		return nil, fmt.Errorf("ui: picture of %d×%d: %w", cfg.Width, cfg.Height, media.ErrTooLarge)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("ui: decode picture: %w", err)
	}
	return img, nil
}

// zeroImage clears the pixels of a decoded picture, so a view-once photo
// does not outlive its viewer in memory.
func zeroImage(img image.Image) {
	switch p := img.(type) {
	case *image.RGBA:
		clear(p.Pix)
	case *image.NRGBA:
		clear(p.Pix)
	case *image.YCbCr:
		clear(p.Y)
		clear(p.Cb)
		clear(p.Cr)
	case *image.Gray:
		clear(p.Pix)
	case *image.Paletted:
		clear(p.Pix)
	case *image.CMYK:
		clear(p.Pix)
	case draw.Image:
		// Other decoders: paint it over.
		draw.Draw(p, p.Bounds(), image.Transparent, image.Point{}, draw.Src)
	}
}

// onceViewer is the window of one view-once photo: the picture lives in
// memory only, and is cleared when the window closes.
type onceViewer struct {
	win     fyne.Window
	img     image.Image
	release func()
	guard   *widget.Label
	closed  bool
}

// showOnceViewer opens the viewer. release zeroes the bytes the picture
// was decoded from; the viewer calls it, and clears the picture, when it
// closes. img may be nil when the bytes were no picture.
func (u *UI) showOnceViewer(m app.Message, img image.Image, release func()) *onceViewer {
	ov := &onceViewer{img: img, release: release}
	title := mediaWhat(m.Media) + " from " + u.name(m.Author)
	ov.win = u.app.NewWindow(title + " · View once")
	// Bytes decoded, the encoded copy is no longer needed.
	release()
	var body fyne.CanvasObject
	if img != nil {
		ci := canvas.NewImageFromImage(img)
		ci.FillMode = canvas.ImageFillContain
		ci.ScaleMode = canvas.ImageScaleSmooth
		body = ci
	} else {
		l := widget.NewLabel("This view-once item is not a picture Kite can show.")
		l.Alignment = fyne.TextAlignCenter
		body = container.NewCenter(l)
	}
	ov.guard = caption("")
	ov.guard.Alignment = fyne.TextAlignCenter
	closeBt := widget.NewButtonWithIcon("Close", theme.CancelIcon(), ov.close)
	foot := container.NewBorder(nil, nil, nil, closeBt, ov.guard)
	// The picture goes in only after the capture guard: the window has no
	// native handle to protect until it is shown.
	stage := container.NewStack()
	ov.win.SetContent(container.NewBorder(nil, container.NewPadded(foot), nil, nil, stage))
	// Nothing to copy: the viewer holds no text and no clipboard action.
	ov.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			ov.close()
		}
	})
	ov.win.SetOnClosed(ov.clear)
	size := fyne.NewSize(720, 560)
	if img != nil {
		b := img.Bounds()
		s := photoSizeIn(b.Dx(), b.Dy(), 960, 720)
		size = fyne.NewSize(fyne.Max(s.Width, 360), s.Height+56)
	}
	ov.win.Resize(size)
	ov.win.CenterOnScreen()
	ov.win.Show()
	protected, why := captureGuard(ov.win)
	u.log.Info("ui: view-once viewer", "capture protected", protected, "capture", why)
	ov.guard.SetText(why)
	if protected {
		ov.guard.Hide()
	}
	stage.Add(body)
	return ov
}

func (ov *onceViewer) close() { ov.win.Close() }

// clear forgets the picture and zeroes its pixels.
func (ov *onceViewer) clear() {
	if ov.closed {
		return
	}
	ov.closed = true
	ov.release()
	if ov.img != nil {
		zeroImage(ov.img)
		ov.img = nil
	}
}

// photoSizeIn fits w×h into maxW×maxH, keeping its aspect.
func photoSizeIn(w, h int, maxW, maxH float32) fyne.Size {
	if w <= 0 || h <= 0 {
		return fyne.NewSize(maxW, maxH)
	}
	s := fyne.NewSize(float32(w), float32(h))
	if s.Width > maxW {
		s = fyne.NewSize(maxW, s.Height*maxW/s.Width)
	}
	if s.Height > maxH {
		s = fyne.NewSize(s.Width*maxH/s.Height, maxH)
	}
	return s
}
