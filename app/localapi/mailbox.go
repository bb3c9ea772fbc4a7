package localapi

import (
	"net/http"

	"kite/app"
)

type (
	// MailboxReq names the mailbox (PUT /v1/mailbox).
	MailboxReq struct {
		Peer string `json:"peer"` // a contact's handle or peer ID
	}
	// MailboxInfo answers GET /v1/mailbox.
	MailboxInfo struct {
		// Mine is this device's own mailbox; null when none.
		Mine *MailboxPeer `json:"mine"`
		// Hosting is true when this device holds events for its
		// contacts (kite serve --mailbox); Holdings lists them.
		Hosting  bool          `json:"hosting"`
		Holdings []app.Holding `json:"holdings"`
	}
	MailboxPeer struct {
		app.MailboxRef
		Handle string `json:"handle"`
	}
)

// mailboxRoutes registers the mailbox endpoints.
func (s *Server) mailboxRoutes() {
	m := s.mux
	m.HandleFunc("GET /v1/mailbox", handle(s, func(r *http.Request, _ none) (any, error) {
		return s.mailboxInfo(r)
	}))
	m.HandleFunc("PUT /v1/mailbox", handle(s, func(r *http.Request, in MailboxReq) (any, error) {
		k, err := s.svc.ResolvePerson(r.Context(), in.Peer)
		if err != nil {
			return nil, err
		}
		if _, err := s.svc.SetMailbox(r.Context(), k); err != nil {
			return nil, err
		}
		return s.mailboxInfo(r)
	}))
	m.HandleFunc("DELETE /v1/mailbox", handle(s, func(r *http.Request, _ none) (any, error) {
		if _, err := s.svc.ClearMailbox(r.Context()); err != nil {
			return nil, err
		}
		return s.mailboxInfo(r)
	}))
}

func (s *Server) mailboxInfo(r *http.Request) (MailboxInfo, error) {
	ctx := r.Context()
	info := MailboxInfo{Hosting: s.svc.MailboxHost(), Holdings: []app.Holding{}}
	if ref, ok := s.svc.Mailbox(ctx); ok {
		mp := &MailboxPeer{MailboxRef: ref}
		if p, err := s.svc.Person(ctx, ref.Key); err == nil {
			mp.Handle = p.Handle
		}
		info.Mine = mp
	}
	if info.Hosting {
		hs, err := s.svc.Holdings(ctx)
		if err != nil {
			return info, err
		}
		info.Holdings = append(info.Holdings, hs...)
	}
	return info, nil
}
