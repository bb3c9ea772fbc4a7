package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/app/audio"
	"kite/app/blobs"
)

// withBlobs gives a device a blob store, so it can send files.
func withBlobs(t *testing.T, d *device) {
	t.Helper()
	st, err := blobs.Open(filepath.Join(t.TempDir(), "blobs"), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	d.svc.SetBlobs(st)
}

// writePNG writes a w×h picture and returns its path.
func writePNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 0x80, A: 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "beach.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeWAV writes half a second of 16 kHz 16-bit silence.
func writeWAV(t *testing.T) string {
	t.Helper()
	const rate, n = 16000, 8000
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	b.Write(make([]byte, 2*n))
	path := filepath.Join(t.TempDir(), "voice-message.wav")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fromBob has bob send something to the direct chat and delivers it to me;
// it returns my copy of the message as the open chat shows it.
func fromBob(t *testing.T, w *world, send func(ctx context.Context) (app.Event, error)) *mediaView {
	t.Helper()
	ev, err := send(context.Background())
	if err != nil {
		t.Fatalf("bob sends: %v", err)
	}
	deliver(t, w.bob, w.me, w.direct)
	u := w.u
	u.openConv(w.direct)
	u.conv.refresh()
	settle(u)
	for _, r := range u.conv.rows {
		if r.kind == rowMsg && u.conv.msgs[r.msg].ID == ev.ID {
			if r.block == nil {
				t.Fatalf("message %s has no block", ev.ID.Short())
			}
			if r.bubbleW < r.block.size.Width || r.h < r.block.size.Height {
				t.Errorf("row %v×%v smaller than its block %v", r.bubbleW, r.h, r.block.size)
			}
			return r.block
		}
	}
	t.Fatalf("message %s not shown", ev.ID.Short())
	return nil
}

// texts are the label and hyperlink texts under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, texts(c)...)
		}
	case *widget.Label:
		out = append(out, x.Text)
	case *widget.Hyperlink:
		out = append(out, x.Text)
	case *widget.Button:
		out = append(out, x.Text)
	case *tapArea:
		out = append(out, texts(x.content)...)
	}
	return out
}

func hasText(o fyne.CanvasObject, s string) bool {
	for _, t := range texts(o) {
		if t == s {
			return true
		}
	}
	return false
}

func TestPhotoBubble(t *testing.T) {
	w := newWorld(t)
	withBlobs(t, w.bob)
	withBlobs(t, w.me)
	path := writePNG(t, 640, 480)
	mv := fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.SendFile(ctx, w.direct, path, app.MediaOptions{Caption: "the beach"})
	})
	if mv.kind != blockPhoto || mv.img == nil || mv.img.Image == nil {
		t.Fatalf("photo block kind %v, image %v; want a photo with its thumbnail", mv.kind, mv.img)
	}
	if got, want := mv.size, fyne.NewSize(280, 210); got != want {
		t.Errorf("photo size %v, want %v", got, want)
	}
	// The blob has not come: the bubble says so.
	if mv.complete || mv.status.Text != "Waiting for sender" || !mv.overlay.Visible() {
		t.Errorf("status %q (complete %v), want Waiting for sender", mv.status.Text, mv.complete)
	}
	mv.transfer(app.Update{Kind: app.UpdTransfer, Done: 50, Total: 200})
	if !mv.bar.Visible() || mv.bar.Value != 0.25 {
		t.Errorf("progress %v visible=%v, want 0.25", mv.bar.Value, mv.bar.Visible())
	}
	mv.transfer(app.Update{Kind: app.UpdTransfer, Err: app.Userf(app.ErrNotFound, "bob went away")})
	if !strings.Contains(mv.status.Text, "bob went away") || mv.status.Importance != widget.DangerImportance {
		t.Errorf("error line %q", mv.status.Text)
	}
	row := u(w).conv.rows[u(w).conv.rowOf(mv.m.ID)]
	if len(row.lines) != 1 || row.lines[0] != "the beach" {
		t.Errorf("caption lines %q, want the beach", row.lines)
	}

	// My own photo is here at once: the full picture replaces the thumbnail.
	if _, err := w.me.svc.SendFile(context.Background(), w.direct, path, app.MediaOptions{}); err != nil {
		t.Fatal(err)
	}
	w.u.conv.refresh()
	settle(w.u)
	mine := w.u.conv.media[lastMessage(t, w.me, w.direct).ID]
	settle(w.u)
	if mine == nil || !mine.complete || mine.overlay.Visible() {
		t.Fatalf("own photo block %+v, want complete", mine)
	}
	for _, it := range w.u.conv.messageActions(mine.m) {
		if it.Label == "Save…" {
			return
		}
	}
	t.Error("no Save… for a kept photo")
}

func u(w *world) *UI { return w.u }

func TestFileCard(t *testing.T) {
	w := newWorld(t)
	withBlobs(t, w.bob)
	path := filepath.Join(t.TempDir(), "minutes.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("minutes of the meeting\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	mv := fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.SendFile(ctx, w.direct, path, app.MediaOptions{})
	})
	if mv.kind != blockFile {
		t.Fatalf("block kind %v, want a file card", mv.kind)
	}
	if !hasText(mv.root, "minutes.txt") || !hasText(mv.root, "File · 2 KB") {
		t.Errorf("file card says %q, want its name and size", texts(mv.root))
	}
	if !mv.open.Disabled() || !mv.save.Disabled() {
		t.Error("Open and Save… enabled before the file is here")
	}
}

func TestVoiceBubble(t *testing.T) {
	w := newWorld(t)
	w.u.audio = audio.NullBackend
	withBlobs(t, w.bob)
	withBlobs(t, w.me)
	path := writeWAV(t)
	mv := fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.SendFile(ctx, w.direct, path, app.MediaOptions{Voice: true})
	})
	if mv.kind != blockVoice || mv.play == nil || mv.pos == nil {
		t.Fatalf("voice block kind %v, play button %v", mv.kind, mv.play)
	}
	if mv.dur.Text != "0:01" && mv.dur.Text != "0:00" {
		t.Errorf("duration %q, want about half a second", mv.dur.Text)
	}
	// The recording is not here yet: playing says why, in plain words.
	mv.togglePlay()
	settle(w.u)
	eventually(t, w.u, "playback to end", func() bool { return mv.playing == nil })
	if !mv.status.Visible() || !strings.Contains(mv.status.Text, "has not arrived") {
		t.Errorf("status after play %q, want why it cannot play", mv.status.Text)
	}
}

func TestViewOnceBubble(t *testing.T) {
	w := newWorld(t)
	path := writePNG(t, 200, 100)
	mv := fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.SendFile(ctx, w.direct, path, app.MediaOptions{Mode: app.ModeViewOnce})
	})
	if mv.kind != blockOnce {
		t.Fatalf("block kind %v, want view once", mv.kind)
	}
	if !hasText(mv.root, "Photo · View once") {
		t.Errorf("view-once card says %q", texts(mv.root))
	}
	if mv.stateL.Text != "Loading…" {
		t.Errorf("state %q (%s), want Loading…", mv.stateL.Text, mv.state)
	}
	for _, it := range w.u.conv.messageActions(mv.m) {
		switch it.Label {
		case "Forward", "Copy", "Save…", "Open":
			t.Errorf("view-once menu offers %q", it.Label)
		}
	}
	for _, tc := range []struct {
		st     string
		mine   bool
		opened bool
		want   string
	}{
		{app.EphemeralReady, false, false, "Tap to view"},
		{app.EphemeralViewed, false, false, "Opened"},
		{app.EphemeralExpired, false, false, "Expired"},
		{app.EphemeralWaiting, true, true, "Opened"},
		{app.EphemeralWaiting, true, false, "Not opened yet"},
	} {
		if got := onceText(tc.st, tc.mine, tc.opened, app.ModeViewOnce); got != tc.want {
			t.Errorf("onceText(%q, mine %v, opened %v) = %q, want %q", tc.st, tc.mine, tc.opened, got, tc.want)
		}
	}
}

func TestViewerClearsPicture(t *testing.T) {
	w := newWorld(t)
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	released := 0
	m := app.Message{Author: w.bob.key, Media: &app.Media{MIME: "image/png", Mode: app.ModeViewOnce}}
	ov := w.u.showOnceViewer(m, img, func() { released++ })
	if !strings.Contains(ov.guard.Text, "cannot stop screenshots") && !strings.Contains(ov.guard.Text, "not available") {
		t.Errorf("capture note %q", ov.guard.Text)
	}
	ov.close()
	if released == 0 || ov.img != nil {
		t.Fatalf("released %d times, picture kept %v", released, ov.img != nil)
	}
	for _, p := range img.Pix {
		if p != 0 {
			t.Fatal("picture not cleared after the viewer closed")
		}
	}
}

func TestShareCards(t *testing.T) {
	w := newWorld(t)
	mv := fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.ShareLocation(ctx, w.direct, 52.5163, 13.3777, "Brandenburger Tor")
	})
	if mv.kind != blockLocation || !hasText(mv.root, "Brandenburger Tor") || !hasText(mv.root, "Open map") {
		t.Errorf("location card %v says %q", mv.kind, texts(mv.root))
	}
	mv = fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.ShareLink(ctx, w.direct, "https://example.org/trip")
	})
	if mv.kind != blockLink || !hasText(mv.root, "https://example.org/trip") {
		t.Errorf("link card %v says %q", mv.kind, texts(mv.root))
	}
	mv = fromBob(t, w, func(ctx context.Context) (app.Event, error) {
		return w.bob.svc.ShareHashtag(ctx, w.direct, "climbing")
	})
	if mv.kind != blockHashtag || !hasText(mv.root, "#climbing") {
		t.Fatalf("hashtag %v says %q", mv.kind, texts(mv.root))
	}
	mv.root.(*widget.Hyperlink).OnTapped()
	if w.u.inbox.search.Text != "#climbing" {
		t.Errorf("search after tapping the hashtag %q", w.u.inbox.search.Text)
	}
}

func TestAttachMenu(t *testing.T) {
	w := newWorld(t)
	w.u.openConv(w.direct)
	settle(w.u)
	c := w.u.conv.compose
	var got []string
	for _, it := range c.attachItems() {
		if !it.IsSeparator {
			got = append(got, it.Label)
		}
	}
	want := "Photo or video|File|View once photo|Allow-one-replay photo"
	if strings.Join(got, "|") != want {
		t.Errorf("attachment menu %q, want %q", got, want)
	}
	if c.attach.Disabled() || !c.mic.Visible() {
		t.Error("attach disabled or no microphone with an empty entry")
	}
	c.entry.SetText("hi")
	if c.mic.Visible() {
		t.Error("microphone shown while typing")
	}
	// Dropping a file sends it.
	withBlobs(t, w.me)
	path := writePNG(t, 64, 64)
	w.u.dropped(fyne.Position{}, []fyne.URI{storageURI(path)})
	settle(w.u)
	if m := lastMessage(t, w.me, w.direct); m.Media == nil || m.Media.Name != "beach.png" {
		t.Errorf("after a drop, last message %+v, want the photo", m)
	}
}

func storageURI(path string) fyne.URI { return storage.NewFileURI(path) }
