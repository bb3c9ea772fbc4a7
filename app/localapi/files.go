package localapi

import (
	"net/http"
	"path/filepath"

	"kite/app"
)

// Request bodies of the file endpoints. Field names are part of the API.
type (
	FileReq struct {
		// Path is an absolute path on the machine Kite runs on.
		Path string `json:"path"`
		// Mode: "keep" (default), "view-once" or "replay".
		Mode    string `json:"mode"`
		Caption string `json:"caption"`
		ReplyTo string `json:"reply_to"`
	}
	SaveReq struct {
		Path string `json:"path"`
	}
	// FilePath answers GET /v1/messages/{id}/file.
	FilePath struct {
		Path string `json:"path"`
	}
)

// fileRoutes registers sending, saving and transfers.
func (s *Server) fileRoutes() {
	m := s.mux
	m.HandleFunc("POST /v1/conversations/{conv}/files", handle(s, s.sendFile))
	m.HandleFunc("POST /v1/messages/{id}/save", handle(s, func(r *http.Request, in SaveReq) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		if !filepath.IsAbs(in.Path) {
			return nil, app.Userf(app.ErrInvalid, "say where to save the file with an absolute path, not %q", in.Path)
		}
		return nil, s.svc.SaveMedia(r.Context(), id, in.Path)
	}))
	m.HandleFunc("GET /v1/messages/{id}/file", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		p, err := s.svc.MediaFile(r.Context(), id)
		return FilePath{Path: p}, err
	}))
	m.HandleFunc("GET /v1/transfers", handle(s, func(r *http.Request, _ none) (any, error) {
		return s.svc.Transfers(), nil
	}))
}

func (s *Server) sendFile(r *http.Request, in FileReq) (any, error) {
	ctx := r.Context()
	mode, ok := map[string]int{"": app.ModeKeep, "keep": app.ModeKeep, "view-once": app.ModeViewOnce, "replay": app.ModeAllowReplay}[in.Mode]
	if !ok {
		return nil, app.Userf(app.ErrInvalid, "mode is keep, view-once or replay, not %q", in.Mode)
	}
	if !filepath.IsAbs(in.Path) {
		return nil, app.Userf(app.ErrInvalid, "name the file with an absolute path, not %q", in.Path)
	}
	c, err := s.convParam(r)
	if err != nil {
		return nil, err
	}
	opts := app.MediaOptions{Mode: mode, Caption: in.Caption}
	if in.ReplyTo != "" {
		if opts.ReplyTo, err = s.svc.ResolveMessage(ctx, in.ReplyTo); err != nil {
			return nil, err
		}
	}
	var updates <-chan app.Update
	if s.net != nil {
		ch, cancel := s.svc.Subscribe(256, answers)
		defer cancel()
		updates = ch
	}
	ev, err := s.svc.SendFile(ctx, c, in.Path, opts)
	if err != nil {
		return nil, err
	}
	out := []Sent{{ID: ev.ID, Conv: ev.Conv}}
	if updates != nil {
		s.await(ctx, out, updates)
	}
	return out[0], nil
}
