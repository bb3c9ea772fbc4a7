package ui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"kite/app"
	"kite/app/audio"
	"kite/assets"
)

// Params are what the window is built from.
type Params struct {
	App     fyne.App // made by cmd/kite (fyneapp.NewWithID)
	Service Service  // *app.Service
	Network Network  // may be nil
	DataDir string
	Log     *slog.Logger
	// SafetyNumber computes the safety number of two identities
	// (crypto/seal.SafetyNumber); nil hides the line.
	SafetyNumber func(a, b ed25519.PublicKey) string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Audio is where voice messages are recorded and played; the zero
	// value is the platform's sound system (tests use audio.NullBackend).
	Audio audio.Backend
	// Passphrase changes the passphrase sealing the identity's keys:
	// old is empty when none is set, new empty removes it. Sealed
	// reports whether one is set. Both nil hide the section.
	Passphrase func(old, new string) error
	Sealed     func() bool
	// TrayHost blocks until the desktop can show a system tray icon
	// (true) or ctx ends (false); the tray menu is set up only then.
	// Setting it up costs a hidden second window with its own GL
	// context (about 8 MB resident), wasted where nothing can show the
	// icon. Nil sets the tray up at once.
	TrayHost func(ctx context.Context) bool
}

// UI is the main window and everything in it. Fields after mu-less UI
// state are touched only on the Fyne thread.
type UI struct {
	app    fyne.App
	svc    Service
	net    Network
	data   string
	log    *slog.Logger
	safety func(a, b ed25519.PublicKey) string
	// passphrase and sealed manage the key file's passphrase.
	passphrase func(old, new string) error
	sealed     func() bool
	trayHost   func(ctx context.Context) bool
	now        func() time.Time
	me         app.PeerKey
	audio      audio.Backend
	// chime plays the new-message sound; tests replace it.
	chime func()

	ctx    context.Context
	cancel context.CancelFunc
	// do runs f on the UI thread: fyne.Do, or in tests a serialized call.
	do func(f func())
	wg sync.WaitGroup // work started by async, so tests can wait

	// UI-thread state.
	win   fyne.Window
	theme *kiteTheme
	inbox *inboxView
	conv  *convView
	right *fyne.Container
	page  string // "chat", "info", "settings", "empty"
	// people are those the window has needed, by key: each read brings
	// the people its page names (authors, the peer of a chat). Reading
	// everyone instead cost 22 MB of garbage and kept 4 MB with 10,000
	// people known, at start and again at every profile update.
	people   map[app.PeerKey]app.Person
	settings app.Settings
	profile  app.Profile
	unread   int
	typing   map[app.ConvID]map[app.PeerKey]time.Time
	focused  bool
	// setTray shows a menu in the system tray; nil without one (tests
	// record it).
	setTray      func(*fyne.Menu)
	newMsg       *newMessage
	settingsPage *settingsPage // the open new-message dialog, for tests
	avatars      *avatarCache
}

// New builds the UI state; ShowMain builds and shows the window.
func New(p Params) *UI {
	u := &UI{
		app: p.App, svc: p.Service, net: p.Network, data: p.DataDir, log: p.Log,
		safety: p.SafetyNumber, now: p.Now, passphrase: p.Passphrase, sealed: p.Sealed, audio: p.Audio,
		trayHost: p.TrayHost,
		people:   make(map[app.PeerKey]app.Person),
		typing:   make(map[app.ConvID]map[app.PeerKey]time.Time),
		settings: app.DefaultSettings,
		focused:  true,
	}
	if u.log == nil {
		u.log = slog.Default()
	}
	u.chime = u.playChime
	if u.now == nil {
		u.now = time.Now
	}
	u.do = fyne.Do
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.me = u.svc.Me()
	u.theme = &kiteTheme{mode: "system"}
	u.avatars = newAvatarCache(u)
	return u
}

// async runs work off the UI thread and applies what it returns on the UI
// thread. An error is shown to the person in plain words.
func (u *UI) async(what string, work func(ctx context.Context) (func(), error)) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		apply, err := work(u.ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) && u.ctx.Err() != nil {
				return
			}
			u.do(func() { u.showError(what, err) })
			return
		}
		if apply != nil {
			u.do(apply)
		}
	}()
}

// act runs a service action off the UI thread, then done on the UI thread.
func (u *UI) act(what string, action func(ctx context.Context) error, done func()) {
	u.async(what, func(ctx context.Context) (func(), error) {
		if err := action(ctx); err != nil {
			return nil, err
		}
		return done, nil
	})
}

// showError tells the person what went wrong in plain words and logs the
// details.
func (u *UI) showError(what string, err error) {
	var ue *app.UserError
	if !errors.As(err, &ue) {
		u.log.Warn("ui: "+what, "err", err)
	}
	if u.win == nil {
		return
	}
	dialog.ShowInformation("Couldn't "+what, app.Plain(err), u.win)
}

// name is the display name of a peer from the cache.
func (u *UI) name(k app.PeerKey) string {
	if k == u.me {
		if u.profile.Name != "" {
			return u.profile.Name
		}
		return "You"
	}
	if p, ok := u.people[k]; ok {
		return p.DisplayName()
	}
	return app.Person{Key: k}.DisplayName()
}

// readPeople reads the people with the given keys; unknown keys are
// skipped. Off the UI thread.
func (u *UI) readPeople(ctx context.Context, keys map[app.PeerKey]bool) ([]app.Person, error) {
	var out []app.Person
	for k := range keys {
		p, err := u.svc.Person(ctx, k)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// authorsOf are the authors of ms and of the messages they quote, for
// readPeople.
func authorsOf(ms []app.Message, quotes map[app.EventID]app.Message) map[app.PeerKey]bool {
	keys := make(map[app.PeerKey]bool)
	for _, m := range ms {
		keys[m.Author] = true
	}
	for _, q := range quotes {
		keys[q.Author] = true
	}
	return keys
}

// learn puts people into the window's cache. On the UI thread.
func (u *UI) learn(ps []app.Person) {
	for _, p := range ps {
		u.people[p.Key] = p
	}
}

// ShowMain builds the main window and shows it.
func (u *UI) ShowMain() {
	u.app.Settings().SetTheme(u.theme)
	u.win = u.app.NewWindow("Kite")
	u.win.SetIcon(assets.WindowIcon)
	u.win.Resize(fyne.NewSize(1100, 720))
	u.inbox = newInboxView(u)
	u.conv = newConvView(u)
	u.right = container.NewStack()
	u.showEmpty()
	sep := widget.NewSeparator()
	u.win.SetContent(container.NewBorder(nil, nil, container.NewHBox(withWidth(340, u.inbox.root), sep), nil, u.right))
	u.win.SetMaster()
	u.win.SetOnDropped(u.dropped)
	u.app.Lifecycle().SetOnEnteredForeground(func() { u.focused = true; u.conv.markSeen() })
	u.app.Lifecycle().SetOnExitedForeground(func() { u.focused = false })
	if d, ok := u.app.(desktop.App); ok {
		u.startTray(d.SetSystemTrayMenu)
	}
	u.reloadAll()
	u.win.Show()
}

// startTray shows the tray menu through set once the desktop has a tray
// to show it in (Params.TrayHost), and keeps it up to date from then on.
func (u *UI) startTray(set func(*fyne.Menu)) {
	if u.trayHost == nil {
		u.setTray = set
		return
	}
	// Not counted in u.wg: it may wait for as long as the app runs.
	go func() {
		if u.trayHost(u.ctx) {
			u.do(func() {
				u.setTray = set
				u.updateTray()
			})
		}
	}()
}

// Window is the main window, once shown.
func (u *UI) Window() fyne.Window { return u.win }

func (u *UI) setRight(page string, o fyne.CanvasObject) {
	u.page = page
	if len(u.right.Objects) == 1 && u.right.Objects[0] == o {
		return // refreshing the chat pane again would redraw all of it
	}
	u.right.Objects = []fyne.CanvasObject{o}
	u.right.Refresh()
}

func (u *UI) showEmpty() {
	u.conv.close()
	u.inbox.select_(app.ConvID{})
	u.setRight("empty", emptyState(u))
}

// openConv shows a conversation in the right pane.
func (u *UI) openConv(id app.ConvID) {
	u.inbox.select_(id)
	u.conv.open(id)
	u.setRight("chat", u.conv.root)
}

// showInfo shows the info panel of the open conversation.
func (u *UI) showInfo() {
	if u.conv.id.IsZero() {
		return
	}
	u.setRight("info", newInfoPanel(u, u.conv.c).root)
}

// showSettings shows the settings page.
func (u *UI) showSettings() {
	u.conv.close()
	u.inbox.select_(app.ConvID{})
	u.settingsPage = newSettingsPage(u)
	u.setRight("settings", u.settingsPage.root)
	u.learnNetPeople()
}

// learnNetPeople reads the people behind the connected and nearby peers
// the settings page lists, and shows the page again with their names if
// any were not known.
func (u *UI) learnNetPeople() {
	if u.net == nil {
		return
	}
	keys := make(map[app.PeerKey]bool)
	for _, p := range append(u.net.Peers(), u.net.Nearby()...) {
		if _, ok := u.people[p.Key]; !ok {
			keys[p.Key] = true
		}
	}
	if len(keys) == 0 {
		return
	}
	u.async("read people", func(ctx context.Context) (func(), error) {
		ps, err := u.readPeople(ctx, keys)
		if err != nil || len(ps) == 0 {
			return nil, err
		}
		return func() {
			u.learn(ps)
			if u.page == "settings" {
				u.showSettingsKeepTab()
			}
		}, nil
	})
}

// reloadAll re-reads the people known to the window, settings, profile,
// the inbox and the counts.
func (u *UI) reloadAll() {
	keys := make(map[app.PeerKey]bool, len(u.people))
	for k := range u.people {
		keys[k] = true
	}
	u.async("load your data", func(ctx context.Context) (func(), error) {
		ps, err := u.readPeople(ctx, keys)
		if err != nil {
			return nil, err
		}
		st, err := u.svc.Settings(ctx)
		if err != nil {
			return nil, err
		}
		prof, err := u.svc.Profile(ctx)
		if err != nil {
			return nil, err
		}
		return func() {
			u.learn(ps)
			u.applySettings(st)
			u.profile = prof
			u.inbox.header()
			u.inbox.reload()
			u.conv.refreshHeader()
		}, nil
	})
	u.reloadCounts()
}

func (u *UI) applySettings(st app.Settings) {
	u.settings = st
	u.updateTray() // the pause checkmark
	mode := st.Appearance
	if mode == "" {
		mode = "system"
	}
	if u.theme.mode != mode {
		u.theme = &kiteTheme{mode: mode}
		u.app.Settings().SetTheme(u.theme)
	}
}

// reloadCounts updates the window title and the tray with the unread total.
func (u *UI) reloadCounts() {
	u.async("count unread messages", func(ctx context.Context) (func(), error) {
		n, err := u.svc.UnreadTotal(ctx)
		if err != nil {
			return nil, err
		}
		return func() { u.setUnread(n) }, nil
	})
}

func (u *UI) setUnread(n int) {
	u.unread = n
	title := "Kite"
	if n > 0 {
		title = fmt.Sprintf("Kite (%d)", n)
	}
	if u.win != nil {
		u.win.SetTitle(title)
	}
	u.updateTray()
}

// updateTray shows the tray menu again, with the current unread total
// and settings.
func (u *UI) updateTray() {
	if u.setTray != nil {
		u.setTray(u.trayMenu())
	}
}

// trayMenu is the system tray's menu: open the window, how many messages
// are unread (not clickable), and pause notifications (checked while
// paused).
func (u *UI) trayMenu() *fyne.Menu {
	count := "No unread messages"
	if u.unread == 1 {
		count = "1 unread message"
	} else if u.unread > 1 {
		count = fmt.Sprintf("%d unread messages", u.unread)
	}
	countItem := fyne.NewMenuItem(count, nil)
	countItem.Disabled = true
	pause := fyne.NewMenuItem("Pause notifications", func() {
		u.act("change notifications", func(ctx context.Context) error {
			_, err := u.svc.UpdateSettings(ctx, func(s *app.Settings) { s.PauseAll = !s.PauseAll })
			return err
		}, nil)
	})
	pause.Checked = u.settings.PauseAll
	open := fyne.NewMenuItem("Open Kite", func() {
		if u.win != nil {
			u.win.Show()
			u.win.RequestFocus()
		}
	})
	return fyne.NewMenu("Kite", open, countItem, pause)
}

// notify shows a desktop notification for new messages from others in
// conv, unless the chat is muted, not in Primary, or notifications are off
// or paused, or the chat is open in front of the person.
func (u *UI) notify(ctx context.Context, conv app.ConvID, evs []app.Event) {
	n := 0
	for _, ev := range evs {
		if ev.Author != u.me && (ev.Kind == app.KindText || ev.Kind == app.KindMedia || ev.Kind == app.KindShare || ev.Kind == app.KindPoll) {
			n++
		}
	}
	if n == 0 {
		return
	}
	st, err := u.svc.Settings(ctx)
	if err != nil || !st.Notifications || st.PauseAll {
		return
	}
	c, err := u.svc.Conversation(ctx, conv)
	if err != nil || c.Folder != app.Primary || c.Muted(u.now()) || c.Archived {
		return
	}
	body := "New message"
	if c.Last != nil && c.Last.Author != u.me {
		body = previewText(c, u.me, false)
	}
	u.do(func() {
		if u.focused && u.conv != nil && u.conv.id == conv && u.page == "chat" {
			return
		}
		u.app.SendNotification(fyne.NewNotification(c.Title, ellipsize(body, 120)))
		if st.Sound {
			u.chime()
		}
	})
}

// playChime plays the new-message sound off the UI thread; with no
// speaker it stays quiet (the notification still shows).
func (u *UI) playChime() {
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
		defer cancel()
		if err := audio.Play(ctx, u.audio, audio.Chime(), nil); err != nil {
			u.log.Debug("ui: chime", "err", err)
		}
	}()
}

// Run follows the service's updates and refreshes what they touch, until
// ctx ends.
func (u *UI) Run(ctx context.Context) error {
	defer u.cancel()
	ch, cancel := u.svc.Subscribe(512, nil)
	defer cancel()
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	var (
		inboxDirty, countsDirty, peopleDirty, settingsDirty, netDirty bool
		convs                                                         = make(map[app.ConvID]bool)
		transfers                                                     = make(map[app.Hash]app.Update)
		ephemeral                                                     = make(map[app.EventID]bool)
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case up, ok := <-ch:
			if !ok {
				return nil
			}
			switch up.Kind {
			case app.UpdEvents:
				inboxDirty, countsDirty = true, true
				convs[up.Conv] = true
				u.notify(ctx, up.Conv, up.Events)
			case app.UpdConversation, app.UpdSeen:
				inboxDirty, countsDirty = true, true
				convs[up.Conv] = true
			case app.UpdTyping:
				if up.Peer != u.me {
					conv, peer, on := up.Conv, up.Peer, up.Typing
					u.do(func() { u.setTyping(conv, peer, on) })
				}
			case app.UpdPresence:
				peer := up.Peer
				u.do(func() { u.presenceChanged(peer) })
			case app.UpdPeople, app.UpdContactAdded:
				peopleDirty, inboxDirty = true, true
				if up.Kind == app.UpdPeople {
					peer := up.Peer
					u.do(func() { u.avatars.forget(peer) })
				}
			case app.UpdTransfer:
				transfers[up.Hash] = up // the newest is all that counts
			case app.UpdEphemeral:
				ephemeral[up.Event] = true
			case app.UpdSettings:
				settingsDirty = true
			case app.UpdRefused:
				conv := up.Conv
				u.do(func() {
					if u.conv != nil && u.conv.id == conv {
						u.conv.refreshNotice()
					}
				})
			case app.UpdNetwork:
				netDirty = true
			}
		case <-tick.C:
			if len(transfers) > 0 || len(ephemeral) > 0 {
				tr, eph := transfers, ephemeral
				transfers, ephemeral = make(map[app.Hash]app.Update), make(map[app.EventID]bool)
				u.do(func() {
					if u.conv != nil {
						u.conv.mediaMoved(tr, eph)
					}
				})
			}
			if !(inboxDirty || countsDirty || peopleDirty || settingsDirty || netDirty || len(convs) > 0) {
				continue
			}
			in, co, pe, se, ne := inboxDirty, countsDirty, peopleDirty, settingsDirty, netDirty
			cs := convs
			inboxDirty, countsDirty, peopleDirty, settingsDirty, netDirty = false, false, false, false, false
			convs = make(map[app.ConvID]bool)
			u.do(func() {
				if u.inbox == nil {
					return // ShowMain has not run yet
				}
				if pe || se {
					u.reloadAll()
				} else {
					if in {
						u.inbox.reload()
					}
					if co {
						u.reloadCounts()
					}
				}
				if u.conv != nil && cs[u.conv.id] {
					u.conv.refresh()
				}
				if ne && u.page == "settings" {
					u.showSettingsKeepTab()
				}
			})
		}
	}
}

// showSettingsKeepTab rebuilds the settings page on the same tab, after
// the network changed.
func (u *UI) showSettingsKeepTab() {
	i := 0
	if u.settingsPage != nil {
		i = u.settingsPage.tabs.SelectedIndex()
	}
	u.settingsPage = newSettingsPage(u)
	u.settingsPage.tabs.SelectIndex(i)
	u.setRight("settings", u.settingsPage.root)
	u.learnNetPeople()
}

// setTyping records that peer is (not) typing in conv; the mark expires
// after 6 s without news.
func (u *UI) setTyping(conv app.ConvID, peer app.PeerKey, on bool) {
	if u.inbox == nil {
		return
	}
	m := u.typing[conv]
	if on {
		if m == nil {
			m = make(map[app.PeerKey]time.Time)
			u.typing[conv] = m
		}
		m[peer] = u.now().Add(6 * time.Second)
		time.AfterFunc(6100*time.Millisecond, func() { u.do(func() { u.expireTyping(conv) }) })
	} else if m != nil {
		delete(m, peer)
	}
	u.inbox.list.Refresh()
	if u.conv != nil && u.conv.id == conv {
		u.conv.rebuild(false)
	}
}

func (u *UI) expireTyping(conv app.ConvID) {
	m := u.typing[conv]
	changed := false
	for k, until := range m {
		if !u.now().Before(until) {
			delete(m, k)
			changed = true
		}
	}
	if changed {
		u.inbox.list.Refresh()
		if u.conv != nil && u.conv.id == conv {
			u.conv.rebuild(false)
		}
	}
}

// typers are the peers typing in conv now.
func (u *UI) typers(conv app.ConvID) []app.PeerKey {
	var out []app.PeerKey
	for k, until := range u.typing[conv] {
		if u.now().Before(until) {
			out = append(out, k)
		}
	}
	return out
}

func (u *UI) presenceChanged(peer app.PeerKey) {
	if u.inbox == nil {
		return
	}
	if u.conv != nil && u.conv.c.Peer == peer {
		u.conv.refreshHeader()
	}
	u.inbox.reload()
}
