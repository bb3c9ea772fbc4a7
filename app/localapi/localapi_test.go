package localapi_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kite/app"
	"kite/app/localapi"
	"kite/app/store"
	"kite/crypto/keys"
)

func newServer(t *testing.T) (*app.Service, *localapi.Server) {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "kite.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := app.New(app.Params{Store: st, Identity: id})
	if _, err := svc.SetProfile(context.Background(), "ada", "Ada", ""); err != nil {
		t.Fatal(err)
	}
	return svc, localapi.New(svc, nil, nil)
}

func TestSocketServeAndErrors(t *testing.T) {
	_, srv := newServer(t)
	dir, err := os.MkdirTemp("", "kapi") // short path: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localapi.Serve(ctx, dir, srv) }()
	var cl *localapi.Client
	for i := 0; ; i++ {
		var ok bool
		if cl, ok = localapi.Dial(dir); ok {
			break
		}
		if i > 200 {
			t.Fatal("the API did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fi, err := os.Stat(filepath.Join(dir, localapi.SocketName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: got %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	// A second instance on the same dir is refused.
	if err := localapi.Serve(context.Background(), dir, srv); err == nil {
		t.Fatal("a second Serve on the same data dir: got nil error")
	}
	var me localapi.Me
	if err := cl.Do(ctx, http.MethodGet, "/v1/me", nil, &me); err != nil || me.Handle != "ada" {
		t.Fatalf("me: got %+v, %v", me, err)
	}
	tests := []struct {
		name, method, path string
		in                 any
		status             int
		code               string
	}{
		{"unknown conversation", http.MethodGet, "/v1/conversations/nobody/messages", nil, 404, "not_found"},
		{"empty text", http.MethodPost, "/v1/send", localapi.SendReq{To: []string{"x"}, Text: ""}, 400, "invalid"},
		{"bad code", http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: "kite:nope"}, 400, "invalid"},
		{"bad json", http.MethodPost, "/v1/contacts", "not an object", 400, "invalid"},
		{"bad limit", http.MethodGet, "/v1/inbox?limit=-3", nil, 400, "invalid"},
		{"bad folder", http.MethodGet, "/v1/inbox?folder=spam", nil, 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cl.Do(ctx, tt.method, tt.path, tt.in, nil)
			var ae *localapi.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Body.Code != tt.code || ae.Body.Error == "" {
				t.Fatalf("got %v, want status %d code %s with plain words", err, tt.status, tt.code)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, localapi.SocketName)); !os.IsNotExist(err) {
		t.Fatal("the socket is left behind after shutdown")
	}
}

func TestOversizedBody(t *testing.T) {
	_, srv := newServer(t)
	cl := localapi.InProcess(srv)
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = 'a'
	}
	err := cl.Do(context.Background(), http.MethodPost, "/v1/send", localapi.SendReq{To: []string{"bob"}, Text: string(big)}, nil)
	var ae *localapi.APIError
	if !errors.As(err, &ae) || ae.Body.Code != "too_large" {
		t.Fatalf("got %v, want too_large", err)
	}
}
