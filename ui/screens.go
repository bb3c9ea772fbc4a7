package ui

import (
	"context"

	"kite/app"
)

// ShowScreen switches the main window to a named screen, for screenshots
// and demos: "inbox", "direct", "group", "requests", "info", "new",
// "settings". It picks the first suitable conversation. It may be called
// from any goroutine after ShowMain and returns at once; the switch
// happens on the UI thread shortly after.
func (u *UI) ShowScreen(name string) {
	u.async("show "+name, func(ctx context.Context) (func(), error) {
		find := func(f app.Folder, kind app.ConvKind) (app.ConvID, bool) {
			cs, err := u.svc.Inbox(ctx, app.InboxQuery{Folder: f, Limit: 100})
			if err != nil {
				return app.ConvID{}, false
			}
			for _, c := range cs {
				if kind == 0 || c.Kind == kind {
					return c.ID, true
				}
			}
			return app.ConvID{}, false
		}
		switch name {
		case "inbox":
			return func() { u.inbox.setFolder(app.Primary); u.showEmpty() }, nil
		case "direct", "info":
			id, ok := find(app.Primary, app.Direct)
			if !ok {
				id, ok = find(app.Primary, 0)
			}
			return func() {
				u.inbox.setFolder(app.Primary)
				if !ok {
					u.showEmpty()
					return
				}
				u.openConv(id)
				if name == "info" {
					u.showInfoWhenLoaded()
				}
			}, nil
		case "group":
			id, ok := find(app.Primary, app.Group)
			return func() {
				u.inbox.setFolder(app.Primary)
				if ok {
					u.openConv(id)
				}
			}, nil
		case "requests":
			id, ok := find(app.Requests, 0)
			return func() {
				u.inbox.setFolder(app.Requests)
				if ok {
					u.openConv(id)
				} else {
					u.showEmpty()
				}
			}, nil
		case "new":
			return func() { u.showEmpty(); u.showNewMessage() }, nil
		case "settings":
			return func() { u.showSettings() }, nil
		}
		u.log.Warn("ui: unknown screen", "name", name)
		return nil, nil
	})
}

// showInfoWhenLoaded opens the info panel once the conversation is read.
func (u *UI) showInfoWhenLoaded() {
	id := u.conv.id
	u.async("show details", func(ctx context.Context) (func(), error) {
		c, err := u.svc.Conversation(ctx, id)
		if err != nil {
			return nil, err
		}
		return func() {
			if u.conv.id == id {
				u.conv.c = c
				u.showInfo()
			}
		}, nil
	})
}

// Open shows a conversation; it may be called from any goroutine after
// ShowMain.
func (u *UI) Open(id app.ConvID) {
	u.do(func() { u.openConv(id) })
}
