package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Client calls the API, over the data dir's socket or in process.
type Client struct {
	hc    *http.Client
	base  string
	token string
}

// Dial connects to the instance running on dataDir, if any; ok is false
// when none answers.
func Dial(dataDir string) (c *Client, ok bool) {
	if runtime.GOOS != "windows" {
		path := filepath.Join(dataDir, SocketName)
		conn, err := net.DialTimeout("unix", path, 500*time.Millisecond)
		if err != nil {
			return nil, false
		}
		conn.Close()
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		return &Client{hc: &http.Client{Transport: tr}, base: "http://kite"}, true
	}
	addr, err1 := os.ReadFile(filepath.Join(dataDir, AddrName))
	tok, err2 := os.ReadFile(filepath.Join(dataDir, TokenName))
	if err1 != nil || err2 != nil {
		return nil, false
	}
	conn, err := net.DialTimeout("tcp", string(addr), 500*time.Millisecond)
	if err != nil {
		return nil, false
	}
	conn.Close()
	return &Client{hc: &http.Client{}, base: "http://" + string(addr), token: string(tok)}, true
}

// InProcess calls h directly, for when no instance runs.
func InProcess(h http.Handler) *Client {
	return &Client{hc: &http.Client{Transport: handlerTransport{h}}, base: "http://kite"}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// APIError is a failed request, with the server's plain words.
type APIError struct {
	Status int
	Body   Error
}

func (e *APIError) Error() string { return e.Body.Error }

// Do sends method path with in as JSON (nil for none) and decodes the
// result into out (nil to discard).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("localapi: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("localapi: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("localapi: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("localapi: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, &e.Body) != nil || e.Body.Error == "" {
			e.Body.Error = strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("localapi: decode response: %w", err)
	}
	return nil
}

// Stream opens GET path and returns its body for reading line by line.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localapi: %s: %w", path, err)
	}
	return resp.Body, nil
}

// PathEscape escapes one path segment.
func PathEscape(s string) string { return url.PathEscape(s) }
