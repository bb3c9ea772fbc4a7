package localapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"kite/app"
)

// Files in the data dir.
const (
	SocketName = "kite.sock"
	// AddrName and TokenName are used where there are no Unix sockets:
	// the loopback address, and a token every request must carry.
	AddrName  = "api.addr"
	TokenName = "api.token"
)

// Event is one line of GET /v1/events: a change to re-read.
type Event struct {
	Type   string      `json:"type"` // events, conversation, people, typing, presence, seen, settings, refused, network
	Conv   app.ConvID  `json:"conv"`
	Peer   app.PeerKey `json:"peer"`
	Events []string    `json:"events,omitempty"`
	Typing bool        `json:"typing,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

var updateNames = map[app.UpdateKind]string{
	app.UpdEvents: "events", app.UpdConversation: "conversation", app.UpdPeople: "people",
	app.UpdTyping: "typing", app.UpdPresence: "presence", app.UpdSeen: "seen",
	app.UpdSettings: "settings", app.UpdContactAdded: "people", app.UpdRefused: "refused",
	app.UpdNetwork: "network", app.UpdMailbox: "mailbox",
}

// events streams updates as JSON lines until the client goes away.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ch, cancel := s.svc.Subscribe(256, func(u app.Update) bool {
		_, ok := updateNames[u.Kind]
		return ok // only the stream's documented types
	})
	defer cancel()
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case u, ok := <-ch:
			if !ok {
				return
			}
			e := Event{Type: updateNames[u.Kind], Conv: u.Conv, Peer: u.Peer, Typing: u.Typing, Reason: string(u.Reason)}
			for _, ev := range u.Events {
				e.Events = append(e.Events, ev.ID.String())
			}
			if err := enc.Encode(e); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// Serve serves h on the data dir's socket until ctx ends. Where there are
// no Unix sockets it listens on loopback and requires the token it writes
// to the data dir (mode 0600).
func Serve(ctx context.Context, dataDir string, h http.Handler) error {
	ln, h, cleanup, err := listen(dataDir, h)
	if err != nil {
		return err
	}
	defer cleanup()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("localapi: serve: %w", err)
	}
	return nil
}

func listen(dataDir string, h http.Handler) (net.Listener, http.Handler, func(), error) {
	if runtime.GOOS != "windows" {
		path := filepath.Join(dataDir, SocketName)
		if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
			c.Close()
			return nil, nil, nil, fmt.Errorf("localapi: another Kite is already running on %s", dataDir)
		}
		_ = os.Remove(path) // a stale socket of a crashed instance
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("localapi: listen: %w", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, nil, nil, fmt.Errorf("localapi: listen: %w", err)
		}
		return ln, h, func() { ln.Close(); os.Remove(path) }, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("localapi: listen: %w", err)
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, nil, nil, fmt.Errorf("localapi: token: %w", err)
	}
	token := hex.EncodeToString(tok)
	addrFile, tokFile := filepath.Join(dataDir, AddrName), filepath.Join(dataDir, TokenName)
	if err := os.WriteFile(tokFile, []byte(token), 0o600); err != nil {
		ln.Close()
		return nil, nil, nil, fmt.Errorf("localapi: write token: %w", err)
	}
	if err := os.WriteFile(addrFile, []byte(ln.Addr().String()), 0o600); err != nil {
		ln.Close()
		return nil, nil, nil, fmt.Errorf("localapi: write address: %w", err)
	}
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeJSON(w, http.StatusUnauthorized, Error{Error: "missing or wrong API token", Code: "unauthorized"})
			return
		}
		h.ServeHTTP(w, r)
	})
	return ln, guarded, func() { ln.Close(); os.Remove(addrFile); os.Remove(tokFile) }, nil
}
