package ui

import (
	"errors"
	"image"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver"
	"fyne.io/fyne/v2/test"

	"kite/app"
)

// fakeAffinity is a window's display affinity as Windows would keep it:
// refused values leave it as it was, and quirk rewrites what is stored.
type fakeAffinity struct {
	refuse map[uint32]bool
	quirk  func(uint32) uint32
	getErr error
	now    uint32
	asked  []uint32
}

func (f *fakeAffinity) set(a uint32) error {
	f.asked = append(f.asked, a)
	if f.refuse[a] {
		return errors.New("refused")
	}
	f.now = a
	if f.quirk != nil {
		f.now = f.quirk(a)
	}
	return nil
}

func (f *fakeAffinity) get() (uint32, error) { return f.now, f.getErr }

func TestGuardWindows(t *testing.T) {
	for _, tc := range []struct {
		name      string
		build     uint32
		fake      fakeAffinity
		protected bool
		why       string
		asked     []uint32
		wantErr   bool
	}{
		{name: "2004 and later excludes", build: 22631, protected: true, why: captureExcluded,
			asked: []uint32{wdaExcludeFromCapture}},
		{name: "before 2004 is not asked to exclude", build: 18363, protected: true, why: captureBlacked,
			asked: []uint32{wdaMonitor}},
		{name: "exclusion refused falls back", build: 19041, fake: fakeAffinity{refuse: map[uint32]bool{wdaExcludeFromCapture: true}},
			protected: true, why: captureBlacked, asked: []uint32{wdaExcludeFromCapture, wdaMonitor}, wantErr: true},
		{name: "exclusion silently downgraded is not claimed", build: 19045,
			fake:      fakeAffinity{quirk: func(a uint32) uint32 { return a & wdaMonitor }},
			protected: true, why: captureBlacked, asked: []uint32{wdaExcludeFromCapture, wdaMonitor}, wantErr: true},
		{name: "everything refused", build: 19045, fake: fakeAffinity{refuse: map[uint32]bool{wdaExcludeFromCapture: true, wdaMonitor: true}},
			protected: false, why: captureFailed, asked: []uint32{wdaExcludeFromCapture, wdaMonitor}, wantErr: true},
		{name: "unreadable affinity is not claimed", build: 7601, fake: fakeAffinity{getErr: errors.New("no")},
			protected: false, why: captureFailed, asked: []uint32{wdaMonitor}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := tc.fake
			protected, why, err := guardWindows(tc.build, fa.set, fa.get)
			if protected != tc.protected || why != tc.why {
				t.Errorf("got (%v, %q), want (%v, %q)", protected, why, tc.protected, tc.why)
			}
			if !slices.Equal(fa.asked, tc.asked) {
				t.Errorf("asked for %#x, want %#x", fa.asked, tc.asked)
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("err %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestGuardMacResult(t *testing.T) {
	for _, tc := range []struct {
		rc, major int
		protected bool
		why       string
		wantErr   bool
	}{
		{macSharingNone, 14, true, captureExcluded, false},
		{macSharingNone, 15, false, captureMacLate, false},
		{macSharingNone, 26, false, captureMacLate, false},
		{macNotMainThread, 14, false, captureFailed, true},
		{macNoWindow, 14, false, captureFailed, true},
		{macSharingRefused, 13, false, captureFailed, true},
	} {
		protected, why, err := guardMacResult(tc.rc, tc.major)
		if protected != tc.protected || why != tc.why || (err != nil) != tc.wantErr {
			t.Errorf("guardMacResult(%d, %d) = (%v, %q, %v), want (%v, %q, error %v)",
				tc.rc, tc.major, protected, why, err, tc.protected, tc.why, tc.wantErr)
		}
	}
}

// nativeWin is a window with a native handle, as Fyne's desktop driver
// gives one once shown.
type nativeWin struct {
	fyne.Window
	context any
}

func (w nativeWin) RunNative(f func(any)) { f(w.context) }

func TestNativeHandle(t *testing.T) {
	a := test.NewTempApp(t)
	plain := a.NewWindow("plain")
	pickWin := func(c any) (uintptr, bool) {
		w, ok := c.(driver.WindowsWindowContext)
		return w.HWND, ok
	}
	if h := nativeHandle(plain, pickWin); h != 0 {
		t.Errorf("a window without RunNative gave handle %#x, want 0", h)
	}
	if h := nativeHandle(nativeWin{plain, driver.WindowsWindowContext{HWND: 0x1234}}, pickWin); h != 0x1234 {
		t.Errorf("got handle %#x, want 0x1234", h)
	}
	// Another platform's context is no handle.
	if h := nativeHandle(nativeWin{plain, driver.MacWindowContext{NSWindow: 0x99}}, pickWin); h != 0 {
		t.Errorf("a macOS context gave a Windows handle %#x, want 0", h)
	}
}

// TestOnceViewerPictureAfterGuard: the viewer shows its picture, once the
// guard has been applied, and says what it could do about screenshots.
func TestOnceViewerPictureAfterGuard(t *testing.T) {
	w := newWorld(t)
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	m := app.Message{Author: w.bob.key, Media: &app.Media{MIME: "image/png", Mode: app.ModeViewOnce}}
	ov := w.u.showOnceViewer(m, img, func() {})
	defer ov.close()
	var found bool
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case *canvas.Image:
			found = found || x.Image == img
		}
	}
	walk(ov.win.Content())
	if !found {
		t.Error("the viewer does not show the picture")
	}
	if ov.guard.Text == "" || !ov.guard.Visible() {
		t.Errorf("capture note %q (shown %v): on this system it must say why screenshots are not stopped", ov.guard.Text, ov.guard.Visible())
	}
}
