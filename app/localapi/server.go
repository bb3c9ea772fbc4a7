package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kite/app"
)

// Network is what the API shows of the peer-to-peer node; nil when the
// instance has none (the CLI without a running instance).
type Network interface {
	Addrs() []string
	Nearby() []NearbyPeer
	Peers() []ConnectedPeer
	Connect(ctx context.Context, addrs []string) error
}

// NearbyPeer is a Kite peer found on the LAN.
type NearbyPeer struct {
	PeerID string    `json:"peer_id"`
	Handle string    `json:"handle"`
	Name   string    `json:"name"`
	Addrs  []string  `json:"addrs"`
	Seen   time.Time `json:"seen"`
}

// ConnectedPeer is a live connection.
type ConnectedPeer struct {
	PeerID    string `json:"peer_id"`
	Addr      string `json:"addr"`
	Transport string `json:"transport"`
	LAN       bool   `json:"lan"`
}

// Server serves the API for one Service.
type Server struct {
	svc *app.Service
	net Network
	log *slog.Logger
	mux *http.ServeMux
}

// New makes the API handler. net may be nil.
func New(svc *app.Service, net Network, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, net: net, log: log, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Error is the JSON body of every failed request.
type Error struct {
	Error  string `json:"error"` // plain words for people
	Code   string `json:"code"`  // stable: not_found, invalid, too_large, blocked, not_member, not_admin, not_author, too_late, refused, ambiguous, internal
	Reason string `json:"reason,omitempty"`
}

var codes = []struct {
	err    error
	code   string
	status int
}{
	{app.ErrNotFound, "not_found", http.StatusNotFound},
	{app.ErrAmbiguous, "ambiguous", http.StatusConflict},
	{app.ErrTooLarge, "too_large", http.StatusRequestEntityTooLarge},
	{app.ErrBlocked, "blocked", http.StatusForbidden},
	{app.ErrNotMember, "not_member", http.StatusForbidden},
	{app.ErrNotAdmin, "not_admin", http.StatusForbidden},
	{app.ErrNotAuthor, "not_author", http.StatusForbidden},
	{app.ErrTooLate, "too_late", http.StatusForbidden},
	{app.ErrRefused, "refused", http.StatusForbidden},
	{app.ErrInvalid, "invalid", http.StatusBadRequest},
	{app.ErrUnreachable, "unreachable", http.StatusBadGateway},
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	e := Error{Error: app.Plain(err), Code: "internal"}
	status := http.StatusInternalServerError
	for _, c := range codes {
		if errors.Is(err, c.err) {
			e.Code, status = c.code, c.status
			break
		}
	}
	if status == http.StatusInternalServerError {
		s.log.Error("api request failed", "err", err)
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxBody caps request bodies; a message is at most 4,096 characters.
const maxBody = 64 << 10

// handle adapts a typed handler: it decodes the JSON body into In (when
// the method has a body), calls f, and writes its result or error.
func handle[In any](s *Server, f func(r *http.Request, in In) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if r.Method != http.MethodGet && r.Body != nil {
			data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				s.fail(w, fmt.Errorf("localapi: read request: %w", err))
				return
			}
			if len(data) > maxBody {
				s.fail(w, app.Userf(app.ErrTooLarge, "the request is larger than %d bytes", maxBody))
				return
			}
			if len(strings.TrimSpace(string(data))) > 0 {
				if err := json.Unmarshal(data, &in); err != nil {
					s.fail(w, app.Userf(app.ErrInvalid, "the request is not valid JSON: %v", err))
					return
				}
			}
		}
		out, err := f(r, in)
		if err != nil {
			s.fail(w, err)
			return
		}
		if out == nil {
			out = map[string]bool{"ok": true}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

type none struct{}

func (s *Server) convParam(r *http.Request) (app.ConvID, error) {
	return s.svc.Resolve(r.Context(), r.PathValue("conv"), r.URL.Query().Get("e2e") == "true")
}

func (s *Server) msgParam(r *http.Request) (app.EventID, error) {
	return s.svc.ResolveMessage(r.Context(), r.PathValue("id"))
}

func (s *Server) peerParam(r *http.Request) (app.PeerKey, error) {
	return s.svc.ResolvePerson(r.Context(), r.PathValue("peer"))
}

func (s *Server) peers(ctx context.Context, whos []string) ([]app.PeerKey, error) {
	out := make([]app.PeerKey, 0, len(whos))
	for _, w := range whos {
		k, err := s.svc.ResolvePerson(ctx, w)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func intQuery(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, app.Userf(app.ErrInvalid, "%s must be a whole number, not %q", name, v)
	}
	return n, nil
}
