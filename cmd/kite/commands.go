package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kite/app/localapi"
)

// call is one API request a command makes.
type call struct {
	method, path string
	in           any
	// say, when set, is what the command prints when it worked, in
	// place of its printer: for actions that answer only "ok".
	say string
}

// command describes an API-backed command: how many arguments it takes,
// its own flags, and how it builds its request and prints the result.
type command struct {
	minArgs, maxArgs int // maxArgs < 0: any number
	usage            string
	flags            func(fs *flag.FlagSet)
	request          func(args []string) (call, error)
	print            func(c *cli, raw json.RawMessage) error // nil: print "ok" or the JSON
}

func esc(s string) string { return url.PathEscape(s) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// commands are the CLI commands that go through the local API.
func (c *cli) commands() map[string]func([]string) error {
	var (
		folder, replyTo, before, conv, upTo, handle, name, bio string
		archived, unread, e2e, all, off                        bool
		limit                                                  int
	)
	cmds := map[string]command{
		"contacts": {0, 2, "contacts [add CODE | block P | unblock P | restrict P [--off]] [--all]",
			func(fs *flag.FlagSet) {
				fs.BoolVar(&all, "all", false, "everyone known, not only contacts")
				fs.BoolVar(&off, "off", false, "with restrict: lift the restriction")
			},
			func(a []string) (call, error) {
				if len(a) == 0 {
					return call{method: http.MethodGet, path: "/v1/contacts?all=" + strconv.FormatBool(all)}, nil
				}
				if len(a) != 2 {
					return call{}, usagef("contacts %s needs one argument", a[0])
				}
				switch a[0] {
				case "add":
					return call{method: http.MethodPost, path: "/v1/contacts", in: localapi.CodeReq{Code: a[1]}}, nil
				case "block", "unblock":
					return call{method: http.MethodPost, path: "/v1/people/" + esc(a[1]) + "/" + a[0], say: a[0] + "ed " + a[1]}, nil
				case "restrict":
					say := "restricted " + a[1]
					if off {
						say = "lifted the restriction on " + a[1]
					}
					return call{method: http.MethodPost, path: "/v1/people/" + esc(a[1]) + "/restrict", in: localapi.OnReq{On: !off}, say: say}, nil
				}
				return call{}, usagef("contacts: unknown action %q (add, block, unblock, restrict)", a[0])
			}, printPeople},
		"inbox": {0, 0, "inbox [--folder primary|general|requests] [--archived] [--unread] [--limit N]",
			func(fs *flag.FlagSet) {
				fs.StringVar(&folder, "folder", "primary", "primary, general or requests")
				fs.BoolVar(&archived, "archived", false, "show the archive")
				fs.BoolVar(&unread, "unread", false, "unread only")
				fs.IntVar(&limit, "limit", 50, "how many")
			},
			func([]string) (call, error) {
				q := url.Values{"folder": {folder}, "archived": {strconv.FormatBool(archived)}, "unread": {strconv.FormatBool(unread)}, "limit": {strconv.Itoa(limit)}}
				return call{method: http.MethodGet, path: "/v1/inbox?" + q.Encode()}, nil
			}, printInbox},
		"send": {2, -1, "send TO[,TO…] TEXT [--reply-to ID] [--e2e]",
			func(fs *flag.FlagSet) {
				fs.StringVar(&replyTo, "reply-to", "", "message ID to reply to")
				fs.BoolVar(&e2e, "e2e", false, "end-to-end encrypted conversation")
			},
			func(a []string) (call, error) {
				return call{method: http.MethodPost, path: "/v1/send", in: localapi.SendReq{To: splitList(a[0]), Text: strings.Join(a[1:], " "), ReplyTo: replyTo, E2E: e2e}}, nil
			}, printSent},
		"messages": {1, 1, "messages CONV [--limit N] [--before ID]",
			func(fs *flag.FlagSet) {
				fs.IntVar(&limit, "limit", 50, "how many")
				fs.StringVar(&before, "before", "", "older than this message")
				fs.BoolVar(&e2e, "e2e", false, "the end-to-end encrypted 1:1")
			},
			func(a []string) (call, error) {
				q := url.Values{"limit": {strconv.Itoa(limit)}, "before": {before}, "e2e": {strconv.FormatBool(e2e)}}
				return call{method: http.MethodGet, path: "/v1/conversations/" + esc(a[0]) + "/messages?" + q.Encode()}, nil
			}, printMessages},
		"react": {2, 2, "react ID EMOJI", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/react", in: localapi.EmojiReq{Emoji: a[1]}}, nil
		}, printSent},
		"unreact": {1, 1, "unreact ID", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/react", in: localapi.EmojiReq{}}, nil
		}, printSent},
		"edit": {2, -1, "edit ID TEXT", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/edit", in: localapi.TextReq{Text: strings.Join(a[1:], " ")}}, nil
		}, printSent},
		"unsend": {1, 1, "unsend ID", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/unsend"}, nil
		}, printSent},
		"delete": {1, 1, "delete ID", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/delete"}, nil
		}, nil},
		"forward": {2, 2, "forward ID TO[,TO…]", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/forward", in: localapi.ToReq{To: splitList(a[1])}}, nil
		}, printSent},
		"seen": {1, 1, "seen CONV [--up-to ID]",
			func(fs *flag.FlagSet) { fs.StringVar(&upTo, "up-to", "", "message ID") },
			func(a []string) (call, error) {
				return call{method: http.MethodPost, path: "/v1/conversations/" + esc(a[0]) + "/seen", in: localapi.SeenReq{UpTo: upTo}}, nil
			}, nil},
		"unread": {0, 0, "unread", nil, func([]string) (call, error) {
			return call{method: http.MethodGet, path: "/v1/unread"}, nil
		}, func(c *cli, raw json.RawMessage) error {
			var u localapi.Unread
			if err := json.Unmarshal(raw, &u); err != nil {
				return err
			}
			fmt.Fprintln(c.out, u.Total)
			return nil
		}},
		"search": {1, -1, "search QUERY [--conv CONV] [--limit N]",
			func(fs *flag.FlagSet) {
				fs.StringVar(&conv, "conv", "", "search one conversation")
				fs.IntVar(&limit, "limit", 50, "how many")
			},
			func(a []string) (call, error) {
				q := url.Values{"q": {strings.Join(a, " ")}, "conv": {conv}, "limit": {strconv.Itoa(limit)}}
				return call{method: http.MethodGet, path: "/v1/search?" + q.Encode()}, nil
			}, printMessages},
		"group": {2, -1, "group create NAME MEMBER… [--e2e] | rename CONV NAME | add CONV MEMBER… | remove CONV MEMBER… | leave CONV | promote CONV MEMBER",
			func(fs *flag.FlagSet) { fs.BoolVar(&e2e, "e2e", false, "end-to-end encrypted group") },
			groupCall(&e2e), printSent},
		"conv":  {2, 3, "conv ACTION CONV [ARG]", nil, convCall, printConvResult},
		"share": {3, 5, "share CONV location LAT LON [LABEL] | contact WHO | hashtag TAG | link URL", nil, shareCall, printSent},
		"poll": {4, 12, "poll CONV QUESTION OPTION OPTION…", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/conversations/" + esc(a[0]) + "/polls", in: localapi.PollReq{Question: a[1], Options: a[2:]}}, nil
		}, printSent},
		"vote": {2, 2, "vote POLL-ID N (0 withdraws)", nil, func(a []string) (call, error) {
			n, err := strconv.Atoi(a[1])
			if err != nil {
				return call{}, usagef("vote: the option is a number, not %q", a[1])
			}
			return call{method: http.MethodPost, path: "/v1/messages/" + esc(a[0]) + "/vote", in: localapi.VoteReq{Option: n}}, nil
		}, printSent},
		"settings": {0, 3, "settings [set KEY VALUE]", nil, settingsCall, printSettings},
		"profile": {0, 0, "profile [--handle H] [--name N] [--bio B]",
			func(fs *flag.FlagSet) {
				fs.StringVar(&handle, "handle", "\x00", "handle")
				fs.StringVar(&name, "name", "\x00", "display name")
				fs.StringVar(&bio, "bio", "\x00", "bio")
			},
			func([]string) (call, error) {
				opt := func(s string) *string {
					if s == "\x00" {
						return nil
					}
					return &s
				}
				req := localapi.ProfileReq{Handle: opt(handle), Name: opt(name), Bio: opt(bio)}
				if req.Handle == nil && req.Name == nil && req.Bio == nil {
					return call{method: http.MethodGet, path: "/v1/me"}, nil
				}
				return call{method: http.MethodPatch, path: "/v1/me", in: req}, nil
			}, printProfile},
		"mailbox": {0, 2, "mailbox [set WHO | clear]", nil, func(a []string) (call, error) {
			switch {
			case len(a) == 0:
				return call{method: http.MethodGet, path: "/v1/mailbox"}, nil
			case a[0] == "set" && len(a) == 2:
				return call{method: http.MethodPut, path: "/v1/mailbox", in: localapi.MailboxReq{Peer: a[1]}}, nil
			case a[0] == "clear" && len(a) == 1:
				return call{method: http.MethodDelete, path: "/v1/mailbox"}, nil
			}
			return call{}, usagef("mailbox: 'mailbox', 'mailbox set WHO' or 'mailbox clear'")
		}, printMailbox},
		"nearby": {0, 0, "nearby", nil, func([]string) (call, error) {
			return call{method: http.MethodGet, path: "/v1/nearby"}, nil
		}, printNearby},
		"peers": {0, 0, "peers", nil, func([]string) (call, error) {
			return call{method: http.MethodGet, path: "/v1/peers"}, nil
		}, printPeers},
		"connect": {1, -1, "connect ADDR…", nil, func(a []string) (call, error) {
			return call{method: http.MethodPost, path: "/v1/connect", in: localapi.ConnectReq{Addrs: a}}, nil
		}, nil},
	}
	out := make(map[string]func([]string) error, len(cmds)+1)
	for name, cmd := range cmds {
		out[name] = func(args []string) error { return c.runAPI(name, cmd, args) }
	}
	out["events"] = c.events
	c.fileCommands(out)
	out["view"] = c.view
	return out
}

func (c *cli) runAPI(name string, cmd command, args []string) error {
	var g globals
	fs := flagSet(name, &g)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs) {
		return usagef("usage: kite %s", cmd.usage)
	}
	req, err := cmd.request(pos)
	if err != nil {
		return err
	}
	cl, done, err := c.api(&g)
	if err != nil {
		return err
	}
	defer done()
	var raw json.RawMessage
	if err := cl.Do(c.ctx, req.method, req.path, req.in, &raw); err != nil {
		return err
	}
	if g.json {
		_, err := c.out.Write(raw)
		return err
	}
	if req.say != "" {
		fmt.Fprintln(c.out, req.say)
		return nil
	}
	if cmd.print != nil {
		c.names = c.loadNames(cl)
		return cmd.print(c, raw)
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["ok"] == true {
			fmt.Fprintln(c.out, "ok")
			return nil
		}
	}
	_, err = c.out.Write(raw)
	return err
}

func groupCall(e2e *bool) func([]string) (call, error) {
	return func(a []string) (call, error) {
		action, rest := a[0], a[1:]
		need := map[string]int{"create": 2, "rename": 2, "add": 2, "remove": 2, "leave": 1, "promote": 2}
		n, ok := need[action]
		if !ok {
			return call{}, usagef("group: unknown action %q (create, rename, add, remove, leave, promote)", action)
		}
		if len(rest) < n {
			return call{}, usagef("usage: kite group create NAME MEMBER… | rename CONV NAME | add CONV MEMBER… | remove CONV MEMBER… | leave CONV | promote CONV MEMBER")
		}
		var members []string
		for _, m := range rest[1:] {
			members = append(members, splitList(m)...)
		}
		switch action {
		case "create":
			return call{method: http.MethodPost, path: "/v1/groups", in: localapi.GroupReq{Name: rest[0], Members: members, E2E: *e2e}}, nil
		case "rename":
			return call{method: http.MethodPost, path: "/v1/groups/" + esc(rest[0]) + "/rename", in: localapi.NameReq{Name: strings.Join(rest[1:], " ")}}, nil
		case "leave":
			return call{method: http.MethodPost, path: "/v1/groups/" + esc(rest[0]) + "/leave"}, nil
		}
		return call{method: http.MethodPost, path: "/v1/groups/" + esc(rest[0]) + "/" + action, in: localapi.MembersReq{Members: members}}, nil
	}
}

func convCall(a []string) (call, error) {
	action, conv := a[0], esc(a[1])
	arg := ""
	if len(a) > 2 {
		arg = a[2]
	}
	p := "/v1/conversations/" + conv + "/"
	who := a[1]
	done := map[string]string{"pin": "pinned", "unpin": "unpinned", "archive": "archived", "unarchive": "unarchived",
		"delete": "deleted", "accept": "accepted", "decline": "declined", "block": "blocked"}
	post := func(path string, in any, say string) (call, error) {
		return call{method: http.MethodPost, path: p + path, in: in, say: say}, nil
	}
	switch action {
	case "mute":
		if arg == "" {
			return call{}, usagef("usage: kite conv mute CONV 1h|8h|24h|forever")
		}
		say := "muted " + who + " for " + arg
		if arg == "forever" {
			say = "muted " + who + " until you unmute it"
		}
		return post("mute", localapi.MuteReq{Duration: arg}, say)
	case "unmute":
		return post("mute", localapi.MuteReq{Duration: "off"}, "unmuted "+who)
	case "pin", "archive":
		return post(action, localapi.OnReq{On: true}, done[action]+" "+who)
	case "unpin", "unarchive":
		return post(strings.TrimPrefix(action, "un"), localapi.OnReq{On: false}, done[action]+" "+who)
	case "move":
		return post("move", localapi.FolderReq{Folder: arg}, "moved "+who+" to "+arg)
	case "theme": // these two are events in the chat: the event is printed
		return post("theme", localapi.ThemeReq{Theme: arg}, "")
	case "disappearing":
		return post("disappearing", localapi.DisappearReq{After: arg}, "")
	case "delete", "accept", "decline", "block":
		return post(action, nil, done[action]+" "+who)
	case "report":
		return post("report", localapi.ReportReq{Reason: arg}, "reported "+who)
	case "info":
		return call{method: http.MethodGet, path: "/v1/conversations/" + conv}, nil
	case "members":
		return call{method: http.MethodGet, path: p + "members"}, nil
	}
	return call{}, usagef("conv: unknown action %q", action)
}

func shareCall(a []string) (call, error) {
	conv, what, rest := a[0], a[1], a[2:]
	req := localapi.ShareReq{Type: what}
	switch what {
	case "location":
		if len(rest) < 2 {
			return call{}, usagef("usage: kite share CONV location LAT LON [LABEL]")
		}
		lat, err1 := strconv.ParseFloat(rest[0], 64)
		lon, err2 := strconv.ParseFloat(rest[1], 64)
		if err1 != nil || err2 != nil {
			return call{}, usagef("share location: latitude and longitude are numbers, like 48.8584 2.2945")
		}
		req.Latitude, req.Longitude = lat, lon
		if len(rest) > 2 {
			req.Label = strings.Join(rest[2:], " ")
		}
	case "contact":
		req.Contact = rest[0]
	case "hashtag":
		req.Hashtag = rest[0]
	case "link":
		req.Link = rest[0]
	default:
		return call{}, usagef("share: a contact, location, hashtag or link, not %q", what)
	}
	return call{method: http.MethodPost, path: "/v1/conversations/" + esc(conv) + "/share", in: req}, nil
}

func settingsCall(a []string) (call, error) {
	if len(a) == 0 {
		return call{method: http.MethodGet, path: "/v1/settings"}, nil
	}
	if a[0] != "set" || len(a) != 3 {
		return call{}, usagef("usage: kite settings set KEY VALUE (who-can-message, activity-status, read-receipts, notifications, sound, pause-all, appearance, link-previews)")
	}
	key, val := a[1], a[2]
	var req localapi.SettingsReq
	b := func() (*bool, error) {
		v, err := strconv.ParseBool(val)
		if err != nil {
			return nil, usagef("settings: %s is on or off (true/false), not %q", key, val)
		}
		return &v, nil
	}
	var err error
	switch key {
	case "who-can-message":
		req.WhoCanMessage = &val
	case "appearance":
		req.Appearance = &val
	case "activity-status":
		req.ActivityStatus, err = b()
	case "read-receipts":
		req.ReadReceipts, err = b()
	case "notifications":
		req.Notifications, err = b()
	case "sound":
		req.Sound, err = b()
	case "pause-all":
		req.PauseAll, err = b()
	case "link-previews":
		req.LinkPreviews, err = b()
	default:
		return call{}, usagef("settings: unknown key %q", key)
	}
	return call{method: http.MethodPatch, path: "/v1/settings", in: req}, err
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return t.Format("2006-01-02")
}
