package localapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"kite/app"
)

// View-once media over the local API. Viewing belongs to the GUI's viewer;
// the API and the CLI only count a view and prove what was viewed: the
// bytes never leave the running instance (no file, no stdout, no
// clipboard), only their SHA-256 and size.
type (
	// Viewed answers POST /v1/messages/{id}/view.
	Viewed struct {
		MIME   string `json:"mime"`
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
		State  string `json:"state"` // after this view: ready (a replay is left) or viewed
	}
	// EphemeralInfo answers GET /v1/messages/{id}/ephemeral.
	EphemeralInfo struct {
		State    string        `json:"state"` // waiting, ready, viewed, expired
		OpenedBy []app.PeerKey `json:"opened_by"`
	}
	// ViewOnceReq sends a file as view-once media (POST
	// /v1/conversations/{conv}/view-once).
	ViewOnceReq struct {
		Path    string `json:"path"`
		Replay  bool   `json:"replay"` // allow one replay
		Caption string `json:"caption"`
	}
)

func (s *Server) ephemeralRoutes() {
	m := s.mux
	m.HandleFunc("POST /v1/messages/{id}/view", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		msg, err := s.svc.Message(r.Context(), id)
		if err != nil {
			return nil, err
		}
		data, release, err := s.svc.ViewEphemeral(r.Context(), id)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		n := len(data)
		release()
		return Viewed{MIME: msg.Media.MIME, Size: n, SHA256: hex.EncodeToString(sum[:]), State: s.svc.EphemeralState(id)}, nil
	}))
	m.HandleFunc("POST /v1/messages/{id}/fetch", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return nil, s.svc.FetchEphemeral(r.Context(), id)
	}))
	m.HandleFunc("GET /v1/messages/{id}/ephemeral", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		by, err := s.svc.OpenedBy(r.Context(), id)
		if err != nil {
			return nil, err
		}
		st := s.svc.EphemeralState(id)
		if st == "" {
			return nil, app.Userf(app.ErrInvalid, "message %s is not view-once media", id.Short())
		}
		return EphemeralInfo{State: st, OpenedBy: by}, nil
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/view-once", handle(s, func(r *http.Request, in ViewOnceReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		mode := app.ModeViewOnce
		if in.Replay {
			mode = app.ModeAllowReplay
		}
		return sent(s.svc.SendFile(r.Context(), c, in.Path, app.MediaOptions{Mode: mode, Caption: in.Caption}))
	}))
}
