package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Limits of a link preview fetch.
const (
	PreviewTimeout  = 5 * time.Second // for the page and its image together
	MaxPreviewBytes = 1 << 20         // read from each response, page or image
	maxRedirects    = 5
	maxTitleRunes   = 200
	maxDescRunes    = 300
)

// previewTimeout is PreviewTimeout; tests shorten it.
var previewTimeout = PreviewTimeout

// Preview is what a link shows in a message. The sender fetches it and
// sends it along, so the recipients never contact the site.
type Preview struct {
	URL         string // as found in the text
	Title       string
	Description string
	Image       []byte // JPEG thumbnail of at most MaxThumbBytes; nil when none
}

// FirstURL returns the first http or https URL in text, without the
// punctuation that ends a sentence or closes an unbalanced bracket around
// it; "" when there is none.
func FirstURL(text string) string {
	lower := strings.ToLower(text)
	for from := 0; from < len(text); {
		i := indexScheme(lower[from:])
		if i < 0 {
			return ""
		}
		start := from + i
		from = start + 1
		if start > 0 {
			if r, _ := utf8.DecodeLastRuneInString(text[:start]); unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue // "xhttp://" is not a link
			}
		}
		end := start
		for end < len(text) {
			r, n := utf8.DecodeRuneInString(text[end:])
			if unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == '`' || r == utf8.RuneError {
				break
			}
			end += n
		}
		if u := trimURL(text[start:end]); validURL(u) {
			return u
		}
	}
	return ""
}

func indexScheme(lower string) int {
	h, s := strings.Index(lower, "http://"), strings.Index(lower, "https://")
	switch {
	case h < 0:
		return s
	case s < 0:
		return h
	}
	return min(h, s)
}

// trimURL drops trailing punctuation and closing brackets that have no
// opening one inside the URL: "(see https://a.example/x)." → "https://a.example/x".
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch last {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			u = u[:len(u)-1]
			continue
		case ')', ']', '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[last]
			if strings.Count(u, string(open)) < strings.Count(u, string(last)) {
				u = u[:len(u)-1]
				continue
			}
		}
		return u
	}
	return u
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" // Parse lowercases the scheme
}

// FetchPreview fetches the title, description and image of a web page for
// a link preview: og:title, og:description and og:image, else <title> and
// the description meta tag. It takes at most PreviewTimeout in all, reads at
// most MaxPreviewBytes of the page and of the image, and refuses any scheme
// but http and https, also on redirects (ErrUnsupported). A page that is no
// HTML but an image gets that image as its preview. A failed image leaves
// Image nil. client may be nil (http.DefaultClient's transport); it is not
// modified.
func FetchPreview(ctx context.Context, client *http.Client, rawURL string) (Preview, error) {
	if !validURL(rawURL) {
		return Preview{}, fmt.Errorf("media: preview %q: only http and https links: %w", rawURL, ErrUnsupported)
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	c := safeClient(client)
	p := Preview{URL: rawURL}

	body, resp, err := get(ctx, c, rawURL, "text/html,application/xhtml+xml;q=0.9,image/*;q=0.5")
	if err != nil {
		return Preview{}, fmt.Errorf("media: preview: %w", err)
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "image/") {
		p.Image, _ = Thumbnail(body, ThumbSide)
		p.Title = pathTitle(resp.Request.URL)
		return p, nil
	}
	if ct != "" && !strings.Contains(ct, "html") {
		return Preview{}, fmt.Errorf("media: preview: %s is not a web page: %w", ct, ErrUnsupported)
	}
	m := parseHead(body, ct)
	p.Title = clip(first(m.ogTitle, m.twTitle, m.title), maxTitleRunes)
	p.Description = clip(first(m.ogDesc, m.twDesc, m.desc), maxDescRunes)
	if img := first(m.ogImage, m.twImage); img != "" {
		if u, err := resp.Request.URL.Parse(img); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			if data, _, err := get(ctx, c, u.String(), "image/*"); err == nil {
				p.Image, _ = Thumbnail(data, ThumbSide)
			}
		}
	}
	if p.Title == "" && p.Description == "" && p.Image == nil {
		p.Title = pathTitle(resp.Request.URL)
	}
	return p, nil
}

// safeClient copies client with a redirect policy that refuses schemes other
// than http and https and long chains, and keeps the caller's own policy.
func safeClient(client *http.Client) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	inner := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to a %s: link: %w", req.URL.Scheme, ErrUnsupported)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects: %w", maxRedirects, ErrUnsupported)
		}
		if inner != nil {
			return inner(req, via)
		}
		return nil
	}
	return &c
}

// get fetches a URL and reads at most MaxPreviewBytes of its body (a
// longer body is cut there).
func get(ctx context.Context, c *http.Client, u, accept string) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%v: %w", err, ErrUnsupported)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "Kite link preview")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fetchErr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("get %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPreviewBytes))
	if err != nil {
		return nil, nil, fetchErr(ctx, err)
	}
	return body, resp, nil
}

func fetchErr(ctx context.Context, err error) error {
	if errors.Is(err, ErrUnsupported) {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%v: %w", err, ErrTimeout)
	}
	return err
}

type headMeta struct {
	title, desc              string
	ogTitle, ogDesc, ogImage string
	twTitle, twDesc, twImage string
}

// parseHead reads the <title> and meta tags of a page, stopping at <body>.
func parseHead(body []byte, contentType string) headMeta {
	var m headMeta
	r, err := charset.NewReader(strings.NewReader(string(body)), contentType)
	if err != nil {
		r = strings.NewReader(string(body))
	}
	z := html.NewTokenizer(r)
	inTitle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return m
		case html.TextToken:
			if inTitle && m.title == "" {
				m.title = string(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "title" {
				inTitle = false
			} else if string(name) == "head" {
				return m
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "body":
				return m
			case "title":
				inTitle = true
			case "meta":
				var key, content string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "property", "name":
						if key == "" {
							key = strings.ToLower(strings.TrimSpace(string(v)))
						}
					case "content":
						content = string(v)
					}
				}
				set := func(dst *string) {
					if *dst == "" {
						*dst = content
					}
				}
				switch key {
				case "og:title":
					set(&m.ogTitle)
				case "og:description":
					set(&m.ogDesc)
				case "og:image", "og:image:url", "og:image:secure_url":
					set(&m.ogImage)
				case "twitter:title":
					set(&m.twTitle)
				case "twitter:description":
					set(&m.twDesc)
				case "twitter:image":
					set(&m.twImage)
				case "description":
					set(&m.desc)
				}
			}
		}
	}
}

func first(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// clip collapses white space and cuts s to n runes, with an ellipsis.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func pathTitle(u *url.URL) string {
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 && i < len(u.Path)-1 {
		return clip(u.Path[i+1:], maxTitleRunes)
	}
	return u.Hostname()
}
