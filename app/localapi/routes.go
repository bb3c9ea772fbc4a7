package localapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"kite/app"
)

// Request bodies. Field names are part of the API: never rename.
type (
	SendReq struct {
		To      []string `json:"to"`
		Text    string   `json:"text"`
		ReplyTo string   `json:"reply_to"`
		E2E     bool     `json:"e2e"`
	}
	TextReq struct {
		Text string `json:"text"`
	}
	EmojiReq struct {
		Emoji string `json:"emoji"`
	}
	ToReq struct {
		To []string `json:"to"`
	}
	CodeReq struct {
		Code string `json:"code"`
	}
	GroupReq struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
		E2E     bool     `json:"e2e"`
	}
	MembersReq struct {
		Members []string `json:"members"`
	}
	NameReq struct {
		Name string `json:"name"`
	}
	MuteReq struct {
		// Duration: "1h", "8h", "24h", "forever" or "off".
		Duration string `json:"duration"`
	}
	OnReq struct {
		On bool `json:"on"`
	}
	FolderReq struct {
		Folder string `json:"folder"`
	}
	ThemeReq struct {
		Theme string `json:"theme"`
	}
	DisappearReq struct {
		// After: "off", "seen", "1h", "24h" or "7d".
		After string `json:"after"`
	}
	SeenReq struct {
		UpTo string `json:"up_to"`
	}
	ReportReq struct {
		Reason string `json:"reason"`
	}
	ShareReq struct {
		Type      string  `json:"type"` // contact, location, hashtag, link
		Contact   string  `json:"contact,omitempty"`
		Latitude  float64 `json:"latitude,omitempty"`
		Longitude float64 `json:"longitude,omitempty"`
		Label     string  `json:"label,omitempty"`
		Hashtag   string  `json:"hashtag,omitempty"`
		Link      string  `json:"link,omitempty"`
	}
	PollReq struct {
		Question string   `json:"question"`
		Options  []string `json:"options"`
	}
	VoteReq struct {
		Option int `json:"option"` // 1-based; 0 withdraws
	}
	ProfileReq struct {
		Handle *string `json:"handle"`
		Name   *string `json:"name"`
		Bio    *string `json:"bio"`
	}
	SettingsReq struct {
		WhoCanMessage  *string `json:"who_can_message"`
		ActivityStatus *bool   `json:"activity_status"`
		ReadReceipts   *bool   `json:"read_receipts"`
		Notifications  *bool   `json:"notifications"`
		Sound          *bool   `json:"sound"`
		PauseAll       *bool   `json:"pause_all"`
		Appearance     *string `json:"appearance"`
		LinkPreviews   *bool   `json:"link_previews"`
	}
	ConnectReq struct {
		Addrs []string `json:"addrs"`
	}
)

// Responses.
type (
	Me struct {
		PeerID  string   `json:"peer_id"`
		Handle  string   `json:"handle"`
		Name    string   `json:"name"`
		Bio     string   `json:"bio"`
		Code    string   `json:"contact_code"`
		Addrs   []string `json:"addrs"`
		Running bool     `json:"running"` // served by a running instance
	}
	Sent struct {
		ID   app.EventID `json:"id"`
		Conv app.ConvID  `json:"conv"`
		// Status is "delivered" when a connected recipient stored it
		// within a moment, else "sending" (it goes when they are back).
		Status string `json:"status,omitempty"`
		// Refusal is the recipient's reason, in plain words, when it
		// refused the message.
		Refusal string `json:"refusal,omitempty"`
	}
	Conversation struct {
		app.Conversation
		Muted bool `json:"muted"`
	}
	Unread struct {
		Total int `json:"total"`
	}
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /v1/me", handle(s, s.me))
	m.HandleFunc("PATCH /v1/me", handle(s, s.setProfile))

	m.HandleFunc("GET /v1/contacts", handle(s, func(r *http.Request, _ none) (any, error) {
		return s.svc.People(r.Context(), r.URL.Query().Get("all") != "true")
	}))
	m.HandleFunc("POST /v1/contacts", handle(s, func(r *http.Request, in CodeReq) (any, error) {
		return s.svc.AddContact(r.Context(), in.Code)
	}))
	m.HandleFunc("POST /v1/people/{peer}/block", handle(s, s.onPeer(s.svc.Block)))
	m.HandleFunc("POST /v1/people/{peer}/unblock", handle(s, s.onPeer(s.svc.Unblock)))
	m.HandleFunc("GET /v1/people/{peer}/safety", handle(s, func(r *http.Request, _ none) (any, error) {
		k, err := s.peerParam(r)
		if err != nil {
			return nil, err
		}
		return s.svc.SafetyNumber(r.Context(), k)
	}))
	m.HandleFunc("POST /v1/people/{peer}/verify", handle(s, s.onPeer(s.svc.AcknowledgeKey)))
	m.HandleFunc("POST /v1/people/{peer}/restrict", handle(s, func(r *http.Request, in OnReq) (any, error) {
		k, err := s.peerParam(r)
		if err != nil {
			return nil, err
		}
		return nil, s.svc.Restrict(r.Context(), k, in.On)
	}))

	m.HandleFunc("GET /v1/inbox", handle(s, s.inbox))
	m.HandleFunc("GET /v1/unread", handle(s, func(r *http.Request, _ none) (any, error) {
		n, err := s.svc.UnreadTotal(r.Context())
		return Unread{Total: n}, err
	}))
	m.HandleFunc("POST /v1/send", handle(s, s.send))
	m.HandleFunc("GET /v1/conversations/{conv}", handle(s, func(r *http.Request, _ none) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		conv, err := s.svc.Conversation(r.Context(), c)
		return Conversation{Conversation: conv, Muted: conv.Muted(time.Now())}, err
	}))
	m.HandleFunc("GET /v1/conversations/{conv}/messages", handle(s, s.messages))
	m.HandleFunc("GET /v1/conversations/{conv}/members", handle(s, func(r *http.Request, _ none) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return s.svc.Members(r.Context(), c)
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/seen", handle(s, func(r *http.Request, in SeenReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		var upTo app.EventID
		if in.UpTo != "" {
			if upTo, err = s.svc.ResolveMessage(r.Context(), in.UpTo); err != nil {
				return nil, err
			}
		}
		return nil, s.svc.MarkSeen(r.Context(), c, upTo)
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/mute", handle(s, s.mute))
	m.HandleFunc("POST /v1/conversations/{conv}/pin", handle(s, s.onConvBool(s.svc.Pin)))
	m.HandleFunc("POST /v1/conversations/{conv}/archive", handle(s, s.onConvBool(s.svc.Archive)))
	m.HandleFunc("POST /v1/conversations/{conv}/move", handle(s, func(r *http.Request, in FolderReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return nil, s.svc.Move(r.Context(), c, app.Folder(in.Folder))
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/theme", handle(s, func(r *http.Request, in ThemeReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.SetTheme(r.Context(), c, in.Theme))
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/disappearing", handle(s, s.disappearing))
	m.HandleFunc("POST /v1/conversations/{conv}/delete", handle(s, s.onConv(s.svc.DeleteConversation)))
	m.HandleFunc("POST /v1/conversations/{conv}/accept", handle(s, s.onConv(s.svc.AcceptRequest)))
	m.HandleFunc("POST /v1/conversations/{conv}/decline", handle(s, s.onConv(s.svc.DeleteRequest)))
	m.HandleFunc("POST /v1/conversations/{conv}/block", handle(s, s.onConv(s.svc.BlockRequest)))
	m.HandleFunc("POST /v1/conversations/{conv}/report", handle(s, func(r *http.Request, in ReportReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return nil, s.svc.Report(r.Context(), c, in.Reason)
	}))
	m.HandleFunc("POST /v1/conversations/{conv}/share", handle(s, s.share))
	m.HandleFunc("POST /v1/conversations/{conv}/polls", handle(s, func(r *http.Request, in PollReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.CreatePoll(r.Context(), c, in.Question, in.Options))
	}))

	m.HandleFunc("GET /v1/messages/{id}", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return s.svc.Message(r.Context(), id)
	}))
	m.HandleFunc("POST /v1/messages/{id}/react", handle(s, func(r *http.Request, in EmojiReq) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.React(r.Context(), id, in.Emoji))
	}))
	m.HandleFunc("POST /v1/messages/{id}/edit", handle(s, func(r *http.Request, in TextReq) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.Edit(r.Context(), id, in.Text))
	}))
	m.HandleFunc("POST /v1/messages/{id}/unsend", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.Unsend(r.Context(), id))
	}))
	m.HandleFunc("POST /v1/messages/{id}/delete", handle(s, func(r *http.Request, _ none) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return nil, s.svc.DeleteForMe(r.Context(), id)
	}))
	m.HandleFunc("POST /v1/messages/{id}/forward", handle(s, func(r *http.Request, in ToReq) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return sentAll(s.svc.Forward(r.Context(), id, in.To))
	}))
	m.HandleFunc("POST /v1/messages/{id}/vote", handle(s, func(r *http.Request, in VoteReq) (any, error) {
		id, err := s.msgParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.Vote(r.Context(), id, in.Option-1))
	}))

	m.HandleFunc("POST /v1/groups", handle(s, func(r *http.Request, in GroupReq) (any, error) {
		ms, err := s.peers(r.Context(), in.Members)
		if err != nil {
			return nil, err
		}
		id, err := s.svc.CreateGroup(r.Context(), in.Name, ms, in.E2E)
		return Sent{Conv: id}, err
	}))
	m.HandleFunc("POST /v1/groups/{conv}/rename", handle(s, func(r *http.Request, in NameReq) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.RenameGroup(r.Context(), c, in.Name))
	}))
	m.HandleFunc("POST /v1/groups/{conv}/add", handle(s, s.onMembers(s.svc.AddMembers)))
	m.HandleFunc("POST /v1/groups/{conv}/remove", handle(s, s.onMembers(s.svc.RemoveMembers)))
	m.HandleFunc("POST /v1/groups/{conv}/promote", handle(s, s.onMembers(func(ctx context.Context, c app.ConvID, ks []app.PeerKey) (app.Event, error) {
		if len(ks) != 1 {
			return app.Event{}, app.Userf(app.ErrInvalid, "promote one member at a time")
		}
		return s.svc.PromoteAdmin(ctx, c, ks[0])
	})))
	m.HandleFunc("POST /v1/groups/{conv}/leave", handle(s, func(r *http.Request, _ none) (any, error) {
		c, err := s.convParam(r)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.LeaveGroup(r.Context(), c))
	}))

	m.HandleFunc("GET /v1/search", handle(s, func(r *http.Request, _ none) (any, error) {
		var conv app.ConvID
		if c := r.URL.Query().Get("conv"); c != "" {
			var err error
			if conv, err = s.svc.Resolve(r.Context(), c, false); err != nil {
				return nil, err
			}
		}
		limit, err := intQuery(r, "limit", 50)
		if err != nil {
			return nil, err
		}
		return s.svc.Search(r.Context(), r.URL.Query().Get("q"), conv, limit)
	}))
	m.HandleFunc("GET /v1/settings", handle(s, func(r *http.Request, _ none) (any, error) {
		return s.svc.Settings(r.Context())
	}))
	m.HandleFunc("PATCH /v1/settings", handle(s, s.settings))

	m.HandleFunc("GET /v1/nearby", handle(s, func(r *http.Request, _ none) (any, error) {
		if s.net == nil {
			return []NearbyPeer{}, nil
		}
		return s.net.Nearby(), nil
	}))
	m.HandleFunc("GET /v1/peers", handle(s, func(r *http.Request, _ none) (any, error) {
		if s.net == nil {
			return []ConnectedPeer{}, nil
		}
		return s.net.Peers(), nil
	}))
	m.HandleFunc("POST /v1/connect", handle(s, func(r *http.Request, in ConnectReq) (any, error) {
		if s.net == nil {
			return nil, app.Userf(app.ErrInvalid, "Kite is not running: start it with 'kite serve' or the app")
		}
		return nil, s.net.Connect(r.Context(), in.Addrs)
	}))
	m.HandleFunc("GET /v1/events", s.events)
	s.fileRoutes()
	s.mailboxRoutes()
	s.ephemeralRoutes()
	s.thumbnailRoutes()
}

func sent(ev app.Event, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return Sent{ID: ev.ID, Conv: ev.Conv}, nil
}

func sentAll(evs []app.Event, err error) (any, error) {
	out := make([]Sent, 0, len(evs))
	for _, ev := range evs {
		out = append(out, Sent{ID: ev.ID, Conv: ev.Conv})
	}
	return out, err
}

func (s *Server) me(r *http.Request, _ none) (any, error) {
	p, err := s.svc.Profile(r.Context())
	if err != nil {
		return nil, err
	}
	var addrs []string
	if s.net != nil {
		addrs = s.net.Addrs()
	}
	code, err := s.svc.ContactCode(r.Context(), addrs)
	if err != nil {
		return nil, err
	}
	return Me{PeerID: s.svc.Me().String(), Handle: p.Handle, Name: p.Name, Bio: p.Bio, Code: code, Addrs: addrs, Running: s.net != nil}, nil
}

func (s *Server) setProfile(r *http.Request, in ProfileReq) (any, error) {
	p, err := s.svc.Profile(r.Context())
	if err != nil {
		return nil, err
	}
	if in.Handle != nil {
		p.Handle = strings.TrimPrefix(*in.Handle, "@")
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Bio != nil {
		p.Bio = *in.Bio
	}
	return s.svc.SetProfile(r.Context(), p.Handle, p.Name, p.Bio)
}

func (s *Server) inbox(r *http.Request, _ none) (any, error) {
	q := r.URL.Query()
	f, err := app.ParseFolder(q.Get("folder"))
	if err != nil {
		return nil, err
	}
	limit, err := intQuery(r, "limit", 50)
	if err != nil {
		return nil, err
	}
	cs, err := s.svc.Inbox(r.Context(), app.InboxQuery{Folder: f, Archived: q.Get("archived") == "true", UnreadOnly: q.Get("unread") == "true", Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Conversation, len(cs))
	now := time.Now()
	for i, c := range cs {
		out[i] = Conversation{Conversation: c, Muted: c.Muted(now)}
	}
	return out, nil
}

func (s *Server) send(r *http.Request, in SendReq) (any, error) {
	ctx := r.Context()
	var updates <-chan app.Update
	if s.net != nil {
		ch, cancel := s.svc.Subscribe(256, answers)
		defer cancel()
		updates = ch
	}
	out, err := s.sendNow(r, in)
	if err != nil || updates == nil {
		return out, err
	}
	s.await(ctx, out, updates)
	return out, nil
}

// answers picks the updates await reads: acks arrive as
// UpdConversation, refusals as UpdRefused. The send's own UpdEvents would
// only wake the waiting handler and take CPU from the delivery.
func answers(u app.Update) bool {
	return u.Kind == app.UpdConversation || u.Kind == app.UpdRefused
}

// await waits a moment for connected recipients to store or refuse what
// was sent, so the sender hears a refusal in plain words at once.
func (s *Server) await(ctx context.Context, sent []Sent, updates <-chan app.Update) {
	connected := map[app.PeerKey]bool{}
	for _, p := range s.net.Peers() {
		if k, err := app.ParsePeer(p.PeerID); err == nil {
			connected[k] = true
		}
	}
	pending := map[app.ConvID]int{}
	for i := range sent {
		sent[i].Status = string(app.StatusSending)
		ms, err := s.svc.Members(ctx, sent[i].Conv)
		if err != nil {
			continue
		}
		for _, m := range ms {
			if connected[m.Key] {
				pending[sent[i].Conv] = i
			}
		}
	}
	delivered := func(i int) bool {
		m, err := s.svc.Message(ctx, sent[i].ID)
		return err == nil && m.Status != app.StatusSending
	}
	timeout := time.NewTimer(1500 * time.Millisecond)
	defer timeout.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
			return
		case u := <-updates:
			if i, ok := pending[u.Conv]; ok {
				switch {
				case u.Kind == app.UpdRefused:
					sent[i].Refusal = app.RefusalText(u.Reason)
					delete(pending, u.Conv)
				case delivered(i):
					sent[i].Status = string(app.StatusDelivered)
					delete(pending, u.Conv)
				}
			}
		}
	}
}

func (s *Server) sendNow(r *http.Request, in SendReq) ([]Sent, error) {
	ctx := r.Context()
	if in.ReplyTo != "" {
		if len(in.To) != 1 {
			return nil, app.Userf(app.ErrInvalid, "a reply goes to one conversation")
		}
		reply, err := s.svc.ResolveMessage(ctx, in.ReplyTo)
		if err != nil {
			return nil, err
		}
		m, err := s.svc.Message(ctx, reply)
		if err != nil {
			return nil, err
		}
		ev, err := s.svc.SendText(ctx, m.Conv, in.Text, reply)
		if err != nil {
			return nil, err
		}
		return []Sent{{ID: ev.ID, Conv: ev.Conv}}, nil
	}
	evs, err := s.svc.SendToMany(ctx, in.To, in.Text, in.E2E)
	out := make([]Sent, 0, len(evs))
	for _, ev := range evs {
		out = append(out, Sent{ID: ev.ID, Conv: ev.Conv})
	}
	return out, err
}

func (s *Server) messages(r *http.Request, _ none) (any, error) {
	c, err := s.convParam(r)
	if err != nil {
		return nil, err
	}
	limit, err := intQuery(r, "limit", 50)
	if err != nil {
		return nil, err
	}
	var before app.Cursor
	if b := r.URL.Query().Get("before"); b != "" {
		id, err := s.svc.ResolveMessage(r.Context(), b)
		if err != nil {
			return nil, err
		}
		m, err := s.svc.Message(r.Context(), id)
		if err != nil {
			return nil, err
		}
		before = app.CursorOf(m)
	}
	return s.svc.Messages(r.Context(), c, before, limit)
}

func (s *Server) mute(r *http.Request, in MuteReq) (any, error) {
	c, err := s.convParam(r)
	if err != nil {
		return nil, err
	}
	var d time.Duration
	switch in.Duration {
	case "off", "0", "":
		d = 0
	case "forever":
		d = app.MuteForever
	default:
		if d, err = time.ParseDuration(in.Duration); err != nil {
			return nil, app.Userf(app.ErrInvalid, "mute for 1h, 8h, 24h or forever, not %q", in.Duration)
		}
	}
	return nil, s.svc.Mute(r.Context(), c, d)
}

func (s *Server) disappearing(r *http.Request, in DisappearReq) (any, error) {
	c, err := s.convParam(r)
	if err != nil {
		return nil, err
	}
	secs, ok := map[string]int64{"off": app.DisappearOff, "seen": app.DisappearAfterSeen, "1h": 3600, "24h": 86400, "7d": 7 * 86400}[in.After]
	if !ok {
		return nil, app.Userf(app.ErrInvalid, "disappearing messages: off, seen, 1h, 24h or 7d, not %q", in.After)
	}
	return sent(s.svc.SetDisappearing(r.Context(), c, secs))
}

func (s *Server) share(r *http.Request, in ShareReq) (any, error) {
	ctx := r.Context()
	c, err := s.convParam(r)
	if err != nil {
		return nil, err
	}
	switch in.Type {
	case "contact":
		k, err := s.svc.ResolvePerson(ctx, in.Contact)
		if err != nil {
			return nil, err
		}
		return sent(s.svc.ShareContact(ctx, c, k))
	case "location":
		return sent(s.svc.ShareLocation(ctx, c, in.Latitude, in.Longitude, in.Label))
	case "hashtag":
		return sent(s.svc.ShareHashtag(ctx, c, in.Hashtag))
	case "link":
		return sent(s.svc.ShareLink(ctx, c, in.Link))
	}
	return nil, app.Userf(app.ErrInvalid, "share a contact, location, hashtag or link, not %q", in.Type)
}

func (s *Server) settings(r *http.Request, in SettingsReq) (any, error) {
	return s.svc.UpdateSettings(r.Context(), func(st *app.Settings) {
		if in.WhoCanMessage != nil {
			st.WhoCanMessage = app.WhoCanMessage(*in.WhoCanMessage)
		}
		setBool(&st.ActivityStatus, in.ActivityStatus)
		setBool(&st.ReadReceipts, in.ReadReceipts)
		setBool(&st.Notifications, in.Notifications)
		setBool(&st.Sound, in.Sound)
		setBool(&st.PauseAll, in.PauseAll)
		setBool(&st.LinkPreviews, in.LinkPreviews)
		if in.Appearance != nil {
			st.Appearance = *in.Appearance
		}
	})
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
