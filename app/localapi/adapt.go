package localapi

import (
	"context"
	"net/http"

	"kite/app"
)

func (s *Server) onPeer(f func(context.Context, app.PeerKey) error) func(*http.Request, none) (any, error) {
	return func(r *http.Request, _ none) (any, error) {
		k, err := s.peerParam(r)
		if err != nil {
			return nil, err
		}
		return nil, f(r.Context(), k)
	}
}

func (s *Server) onConv(f func(context.Context, app.ConvID) error) func(*http.Request, none) (any, error) {
	return func(r *http.Request, _ none) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return nil, f(r.Context(), c)
	}
}

func (s *Server) onConvBool(f func(context.Context, app.ConvID, bool) error) func(*http.Request, OnReq) (any, error) {
	return func(r *http.Request, in OnReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return nil, f(r.Context(), c, in.On)
	}
}

func (s *Server) onMembers(f func(context.Context, app.ConvID, []app.PeerKey) (app.Event, error)) func(*http.Request, MembersReq) (any, error) {
	return func(r *http.Request, in MembersReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		ks, err := s.peers(r.Context(), in.Members)
		if err != nil {
			return nil, err
		}
		return sent(f(r.Context(), c, ks))
	}
}
