package localapi

import (
	"net/http"

	"kite/app"
)

// Thumbnail answers GET /v1/messages/{id}/thumbnail: the small JPEG a
// kept photo or video carries inline in its event, which the GUI shows
// before the file itself has arrived. View-once media has none.
type Thumbnail struct {
	JPEG []byte `json:"jpeg"` // base64 in JSON
}

func (s *Server) thumbnailRoutes() {
	s.mux.HandleFunc("GET /v1/messages/{id}/thumbnail", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		m, err := s.svc.Message(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if m.Media == nil || len(m.Media.Thumbnail) == 0 {
			return nil, app.Userf(app.ErrNotFound, "message %s has no thumbnail", id.Short())
		}
		return Thumbnail{JPEG: m.Media.Thumbnail}, nil
	}))
}
