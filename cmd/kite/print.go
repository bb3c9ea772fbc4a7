package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"kite/app"
	"kite/app/localapi"
)

// names maps peers to what to call them in human output; filled by
// runAPI before printing listings that name people.
type names struct {
	me     app.PeerKey
	byPeer map[app.PeerKey]string
}

func (n names) of(k app.PeerKey) string {
	if k == n.me {
		return "you"
	}
	if s, ok := n.byPeer[k]; ok {
		return s
	}
	return k.String()[:12] + "…"
}

func (c *cli) loadNames(cl *localapi.Client) names {
	n := names{byPeer: map[app.PeerKey]string{}}
	var me localapi.Me
	if cl.Do(c.ctx, http.MethodGet, "/v1/me", nil, &me) == nil {
		n.me, _ = app.ParsePeer(me.PeerID)
	}
	var people []app.Person
	if cl.Do(c.ctx, http.MethodGet, "/v1/contacts?all=true", nil, &people) == nil {
		for _, p := range people {
			if p.Handle != "" {
				n.byPeer[p.Key] = "@" + p.Handle
			} else {
				n.byPeer[p.Key] = p.DisplayName()
			}
		}
	}
	return n
}

func table(c *cli) *tabwriter.Writer { return tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0) }

func printPeople(c *cli, raw json.RawMessage) error {
	var ps []app.Person
	if err := json.Unmarshal(raw, &ps); err != nil {
		// contacts add returns one person
		var p app.Person
		if err2 := json.Unmarshal(raw, &p); err2 != nil {
			fmt.Fprintln(c.out, "ok")
			return nil
		}
		fmt.Fprintf(c.out, "added %s (%s)\n", p.DisplayName(), p.Key)
		return nil
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.out, "no contacts yet: add one with 'kite contacts add CODE'")
		return nil
	}
	w := table(c)
	fmt.Fprintln(w, "HANDLE\tNAME\tPEER ID\tSTATUS")
	for _, p := range ps {
		var st []string
		if p.Contact {
			st = append(st, "contact")
		}
		if p.Blocked {
			st = append(st, "blocked")
		}
		if p.Restricted {
			st = append(st, "restricted")
		}
		fmt.Fprintf(w, "@%s\t%s\t%s\t%s\n", p.Handle, p.Name, p.Key, strings.Join(st, ","))
	}
	return w.Flush()
}

func printInbox(c *cli, raw json.RawMessage) error {
	var cs []localapi.Conversation
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintln(c.out, "no conversations")
		return nil
	}
	w := table(c)
	fmt.Fprintln(w, "CONVERSATION\tTITLE\tLAST\tWHEN\tUNREAD\tFLAGS")
	for _, cv := range cs {
		last := ""
		if cv.Last != nil {
			last = cv.Last.Text
			if len([]rune(last)) > 40 {
				last = string([]rune(last)[:39]) + "…"
			}
		}
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{cv.Pinned, "pinned"}, {cv.Muted, "muted"}, {cv.E2E, "e2e"}, {cv.Archived, "archived"}, {cv.Kind == app.Group, "group"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", cv.ID, cv.Title, last, ago(cv.LastAt), cv.Unread, strings.Join(flags, ","))
	}
	return w.Flush()
}

func printSent(c *cli, raw json.RawMessage) error {
	var many []localapi.Sent
	if json.Unmarshal(raw, &many) != nil {
		var one localapi.Sent
		if err := json.Unmarshal(raw, &one); err != nil {
			return err
		}
		many = []localapi.Sent{one}
	}
	var refused []string
	for _, s := range many {
		if s.ID.IsZero() && s.Conv.IsZero() {
			fmt.Fprintln(c.out, "ok")
			continue
		}
		if s.ID.IsZero() {
			fmt.Fprintf(c.out, "conversation %s\n", s.Conv)
			continue
		}
		fmt.Fprintf(c.out, "%s in %s\n", s.ID, s.Conv)
		if s.Refusal != "" {
			refused = append(refused, s.Refusal)
		}
	}
	if len(refused) > 0 {
		return usagef("not delivered: %s", strings.Join(refused, " "))
	}
	return nil
}

func describe(m app.Message) string {
	switch {
	case m.Unsent:
		return "(unsent a message)"
	case m.Expired:
		return "(message disappeared)"
	case m.System != "":
		return "· " + m.System
	case m.Share != nil:
		switch m.Share.Type {
		case "location":
			return fmt.Sprintf("📍 %s (%.5f, %.5f)", m.Share.Label, m.Share.Latitude, m.Share.Longitude)
		case "contact":
			return "👤 " + m.Share.Name
		case "hashtag":
			return "#" + m.Share.Hashtag
		case "link":
			if m.Share.Title != "" {
				return m.Text + "  🔗 " + m.Share.Title + " (" + m.Share.Link + ")"
			}
			return m.Share.Link
		}
	case m.Poll != nil:
		var opts []string
		for i, o := range m.Poll.Options {
			opts = append(opts, fmt.Sprintf("%d) %s [%d]", i+1, o.Text, o.Votes))
		}
		return "📊 " + m.Poll.Question + "  " + strings.Join(opts, "  ")
	case m.Media != nil:
		return fmt.Sprintf("[%s %s, %d bytes]", m.Media.MIME, m.Media.Name, m.Media.Size)
	}
	return m.Text
}

func (c *cli) printMessageList(n names, ms []app.Message) error {
	if len(ms) == 0 {
		fmt.Fprintln(c.out, "no messages")
		return nil
	}
	for _, m := range ms {
		line := fmt.Sprintf("%s  %s  %s: %s", m.ID.Short(), m.Time.Local().Format("2006-01-02 15:04"), n.of(m.Author), describe(m))
		if !m.ReplyTo.IsZero() {
			line += "  ↩ " + m.ReplyTo.Short()
		}
		if m.Edited {
			line += "  (edited)"
		}
		if len(m.Reactions) > 0 {
			var rs []string
			for _, r := range m.Reactions {
				rs = append(rs, r.Emoji)
			}
			line += "  " + strings.Join(rs, "")
		}
		if m.Author == n.me && m.Status != "" {
			line += "  [" + string(m.Status) + "]"
		}
		fmt.Fprintln(c.out, line)
	}
	return nil
}

func printMessages(c *cli, raw json.RawMessage) error {
	var ms []app.Message
	if err := json.Unmarshal(raw, &ms); err != nil {
		return err
	}
	return c.printMessageList(c.names, ms)
}

func printConvResult(c *cli, raw json.RawMessage) error {
	// A conversation (conv info) has a title; a sent event (conv theme,
	// conv disappearing) has an ID too, so the ID does not tell them apart.
	var fields map[string]json.RawMessage
	var cv localapi.Conversation
	if json.Unmarshal(raw, &fields) == nil && fields["title"] != nil && json.Unmarshal(raw, &cv) == nil {
		w := table(c)
		fmt.Fprintf(w, "id\t%s\ntitle\t%s\nkind\t%s\nfolder\t%s\nencryption\t%s\nmuted\t%v\npinned\t%v\narchived\t%v\ntheme\t%s\nmembers\t%d\nunread\t%d\n",
			cv.ID, cv.Title, cv.Kind, cv.Folder, encryption(cv.E2E), cv.Muted, cv.Pinned, cv.Archived, cv.Theme, cv.Members, cv.Unread)
		return w.Flush()
	}
	var ms []app.Member
	if json.Unmarshal(raw, &ms) == nil && len(ms) > 0 {
		for _, m := range ms {
			role := ""
			if m.Admin {
				role = " (admin)"
			}
			fmt.Fprintf(c.out, "%s %s%s\n", m.Key, c.names.of(m.Key), role)
		}
		return nil
	}
	return printSent(c, raw)
}

// printProfile prints this device's profile (GET and PATCH /v1/me).
func printProfile(c *cli, raw json.RawMessage) error {
	var p app.Profile
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	w := table(c)
	fmt.Fprintf(w, "handle\t@%s\nname\t%s\nbio\t%s\n", p.Handle, p.Name, p.Bio)
	return w.Flush()
}

func encryption(e2e bool) string {
	if e2e {
		return "end-to-end encrypted (NaCl box)"
	}
	return "encrypted in transit (Noise)"
}

func printSettings(c *cli, raw json.RawMessage) error {
	var s app.Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	w := table(c)
	fmt.Fprintf(w, "who-can-message\t%s\nactivity-status\t%v\nread-receipts\t%v\nnotifications\t%v\nsound\t%v\npause-all\t%v\nappearance\t%s\nlink-previews\t%v\n",
		s.WhoCanMessage, s.ActivityStatus, s.ReadReceipts, s.Notifications, s.Sound, s.PauseAll, s.Appearance, s.LinkPreviews)
	return w.Flush()
}

func printNearby(c *cli, raw json.RawMessage) error {
	var ps []localapi.NearbyPeer
	if err := json.Unmarshal(raw, &ps); err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.out, "no one nearby (is 'kite serve' or the app running?)")
		return nil
	}
	w := table(c)
	fmt.Fprintln(w, "HANDLE\tNAME\tPEER ID\tSEEN")
	for _, p := range ps {
		fmt.Fprintf(w, "@%s\t%s\t%s\t%s\n", p.Handle, p.Name, p.PeerID, ago(p.Seen))
	}
	return w.Flush()
}

func printPeers(c *cli, raw json.RawMessage) error {
	var ps []localapi.ConnectedPeer
	if err := json.Unmarshal(raw, &ps); err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.out, "not connected to anyone")
		return nil
	}
	w := table(c)
	fmt.Fprintln(w, "PEER ID\tADDRESS\tTRANSPORT\tLAN")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", p.PeerID, p.Addr, p.Transport, p.LAN)
	}
	return w.Flush()
}

func printMailbox(c *cli, raw json.RawMessage) error {
	var info localapi.MailboxInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("kite: mailbox: %w", err)
	}
	if m := info.Mine; m != nil {
		who := m.Key.String()
		if m.Handle != "" {
			who = "@" + m.Handle + " (" + who + ")"
		}
		fmt.Fprintf(c.out, "your mailbox: %s\n", who)
	} else {
		fmt.Fprintln(c.out, "no mailbox: name an always-on contact with 'kite mailbox set WHO'")
	}
	if !info.Hosting {
		return nil
	}
	if len(info.Holdings) == 0 {
		fmt.Fprintln(c.out, "this device is a mailbox for its contacts; it holds nothing now")
		return nil
	}
	fmt.Fprintln(c.out, "this device holds messages for:")
	w := table(c)
	fmt.Fprintln(w, "OWNER\tEVENTS\tSIZE\tOLDEST")
	for _, h := range info.Holdings {
		who := h.Owner.String()
		if h.Handle != "" {
			who = "@" + h.Handle
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", who, h.Events, app.HumanBytes(h.Bytes), h.Oldest.Local().Format(time.DateTime))
	}
	return w.Flush()
}
