package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFirstURL(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ""},
		{"no links here", ""},
		{"see https://example.com/a?b=c#d now", "https://example.com/a?b=c#d"},
		{"http://example.com", "http://example.com"},
		{"end of sentence https://example.com/page.", "https://example.com/page"},
		{"(see https://example.com/x)", "https://example.com/x"},
		{"https://en.wikipedia.org/wiki/Go_(language), nice", "https://en.wikipedia.org/wiki/Go_(language)"},
		{"<https://example.com/in/brackets>", "https://example.com/in/brackets"},
		{`"https://example.com/q"`, "https://example.com/q"},
		{"HTTPS://EXAMPLE.COM/Up", "HTTPS://EXAMPLE.COM/Up"},
		{"ftp://example.com/file and https://second.example/", "https://second.example/"},
		{"file:///etc/passwd", ""},
		{"javascript:alert(1)", ""},
		{"www.example.com", ""},
		{"xhttps://example.com", ""},
		{"https:// nothing", ""},
		{"http://", ""},
		{"first http://a.example then https://b.example", "http://a.example"},
		{"héllo https://example.com/ünïcode?", "https://example.com/ünïcode"},
		{"line\nhttps://example.com/x\nnext", "https://example.com/x"},
	}
	for _, tt := range tests {
		if got := FirstURL(tt.text); got != tt.want {
			t.Errorf("FirstURL(%q): got %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestOSMLink(t *testing.T) {
	tests := []struct {
		lat, lon float64
		want     string
	}{
		{52.52, 13.405, "https://www.openstreetmap.org/?mlat=52.52&mlon=13.405#map=16/52.52/13.405"},
		{-33.8688197, 151.2092955, "https://www.openstreetmap.org/?mlat=-33.86882&mlon=151.209296#map=16/-33.86882/151.209296"},
		{0, 0, "https://www.openstreetmap.org/?mlat=0&mlon=0#map=16/0/0"},
		{10, 190, "https://www.openstreetmap.org/?mlat=10&mlon=-170#map=16/10/-170"},
		{91, 0, ""},
		{0, nan(), ""},
	}
	for _, tt := range tests {
		if got := OSMLink(tt.lat, tt.lon); got != tt.want {
			t.Errorf("OSMLink(%v, %v): got %q, want %q", tt.lat, tt.lon, got, tt.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func previewServer(t *testing.T) *httptest.Server {
	t.Helper()
	img := encPNG(t, noisy(800, 600, 8, 5))
	big := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><head><title>Big</title><style>")
		fmt.Fprint(w, strings.Repeat("/* padding */\n", 900<<10/14))
		fmt.Fprint(w, `</style><meta property="og:description" content="before the cut"><style>`)
		fmt.Fprint(w, strings.Repeat("/* padding */\n", 1200<<10/14))
		fmt.Fprint(w, `</style><meta property="og:title" content="after the cut"></head><body></body></html>`)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/og", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Plain title</title>
<meta property="og:title" content="  Kite &amp; friends ">
<meta property="og:description" content="A serverless
   messenger.">
<meta property="og:image" content="/img.png">
</head><body><meta property="og:title" content="in the body"></body></html>`)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>
  Just a title </title><meta name="description" content="Just a description"></head></html>`)
	})
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<html><head><title>Caf\xe9</title></head></html>"))
	})
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { big(w) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/to-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/file", http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-og", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/og", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprint(w, "%PDF-1.4")
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestFetchPreview(t *testing.T) {
	s := previewServer(t)
	tests := []struct {
		path, title, desc string
		image             bool
	}{
		{"/og", "Kite & friends", "A serverless messenger.", true},
		{"/to-og", "Kite & friends", "A serverless messenger.", true},
		{"/plain", "Just a title", "Just a description", false},
		{"/latin1", "Café", "", false},
		{"/big", "Big", "before the cut", false}, // 2 MiB page: only the first MiB is read
		{"/img.png", "img.png", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := FetchPreview(context.Background(), s.Client(), s.URL+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if p.URL != s.URL+tt.path || p.Title != tt.title || p.Description != tt.desc {
				t.Errorf("got %q %q %q, want %q %q %q", p.URL, p.Title, p.Description, s.URL+tt.path, tt.title, tt.desc)
			}
			if got := p.Image != nil; got != tt.image {
				t.Fatalf("got image %v, want %v", got, tt.image)
			}
			if p.Image != nil {
				if len(p.Image) > MaxThumbBytes {
					t.Errorf("image of %d bytes, want at most %d", len(p.Image), MaxThumbBytes)
				}
				img, err := jpeg.Decode(bytes.NewReader(p.Image))
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
					t.Errorf("image is %d×%d, want 320×240", b.Dx(), b.Dy())
				}
			}
		})
	}
}

func TestFetchPreviewRefuses(t *testing.T) {
	s := previewServer(t)
	old := previewTimeout
	previewTimeout = 300 * time.Millisecond
	defer func() { previewTimeout = old }()
	tests := []struct {
		url  string
		want error
	}{
		{s.URL + "/to-ftp", ErrUnsupported},
		{s.URL + "/to-file", ErrUnsupported},
		{s.URL + "/loop", ErrUnsupported},
		{s.URL + "/pdf", ErrUnsupported},
		{"ftp://example.com/x", ErrUnsupported},
		{"file:///etc/passwd", ErrUnsupported},
		{s.URL + "/slow", ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			start := time.Now()
			_, err := FetchPreview(context.Background(), s.Client(), tt.url)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v, want under 3s", d)
			}
		})
	}
	if _, err := FetchPreview(context.Background(), s.Client(), s.URL+"/missing"); err == nil {
		t.Errorf("got no error for a 404")
	}
}
