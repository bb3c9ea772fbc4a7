package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kite/app"
)

// CreateDirect implements app.StateStore; an existing conversation keeps
// its folder.
func (s *Store) CreateDirect(ctx context.Context, self, peer app.PeerKey, e2e bool, folder app.Folder) (app.ConvID, error) {
	if self.IsZero() || peer.IsZero() || self == peer {
		return app.ConvID{}, fmt.Errorf("store: create direct: %w: need two different peers", app.ErrInvalid)
	}
	if folder == "" {
		folder = app.Primary
	}
	id := app.DirectConvID(self, peer, e2e)
	// Sending to someone goes through here every time: a conversation
	// that exists needs no write transaction.
	if _, err := s.ConvBrief(ctx, id); err == nil {
		return id, nil
	}
	err := s.write(ctx, self, func(w *wtx) error {
		_, err := w.conv(id)
		if errors.Is(err, app.ErrNotFound) {
			_, err = w.createDirect(id, peer, e2e, folder)
		}
		return err
	})
	if err != nil {
		return app.ConvID{}, fmt.Errorf("store: create direct: %w", err)
	}
	return id, nil
}

// SetConvState implements app.StateStore.
func (s *Store) SetConvState(ctx context.Context, conv app.ConvID, update func(*app.ConvState)) error {
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		var st app.ConvState
		var folder string
		var pinned, archived int
		var muted int64
		if err := w.tx.QueryRowContext(ctx, `SELECT folder, pinned, archived, muted_until FROM conversations WHERE id = ?`,
			conv[:]).Scan(&folder, &pinned, &archived, &muted); err != nil {
			return notFound("conversation state", err)
		}
		st = app.ConvState{Folder: app.Folder(folder), Pinned: pinned != 0, Archived: archived != 0, MutedUntil: fromMs(muted)}
		update(&st)
		if _, err := app.ParseFolder(string(st.Folder)); err != nil {
			return fmt.Errorf("store: conversation state: %w", err)
		}
		if st.Folder == "" {
			st.Folder = app.Primary
		}
		_, err := w.exec("conversation state", `UPDATE conversations SET folder = ?, pinned = ?, archived = ?, muted_until = ?
			WHERE id = ?`, string(st.Folder), b2i(st.Pinned), b2i(st.Archived), ms(st.MutedUntil), conv[:])
		return err
	})
}

// DeleteForMe implements app.StateStore.
func (s *Store) DeleteForMe(ctx context.Context, msg app.EventID) error {
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		var rid int64
		var conv, pos []byte
		if err := w.tx.QueryRowContext(ctx, `SELECT rid, conv, pos FROM messages
			WHERE rid IN `+ridsOf+` AND id = ?1`, msg[:]).Scan(&rid, &conv, &pos); err != nil {
			return notFound("delete for me", err)
		}
		if _, err := w.exec("delete for me", `UPDATE messages SET deleted = 1 WHERE rid = ?`, rid); err != nil {
			return err
		}
		if w.indexed(rid) {
			if _, err := w.exec("unindex message", `DELETE FROM messages_fts WHERE rowid = ?`, rid); err != nil {
				return err
			}
		}
		c, err := w.conv(key32(conv))
		if err != nil {
			return err
		}
		if c.last != nil && bytes.Equal(c.last.pos, pos) {
			if err := w.recomputeLast(c); err != nil {
				return err
			}
		}
		return w.recomputeUnread(c)
	})
}

// ClearConversation implements app.StateStore.
func (s *Store) ClearConversation(ctx context.Context, conv app.ConvID) error {
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		c, err := w.conv(conv)
		if err != nil {
			return err
		}
		var maxPos []byte
		if err := w.tx.QueryRowContext(ctx, `SELECT max(pos) FROM messages WHERE conv = ?`, conv[:]).Scan(&maxPos); err != nil {
			return fmt.Errorf("store: clear: %w", err)
		}
		if maxPos != nil && bytes.Compare(maxPos, c.clearedPos) > 0 {
			if _, err := w.exec("clear", `DELETE FROM messages_fts WHERE rowid IN
				(SELECT rid FROM messages WHERE conv = ? AND pos > ? AND pos <= ? AND rid <= ?)`, conv[:], c.clearedPos, maxPos, w.ftsUpto); err != nil {
				return err
			}
			c.clearedPos = maxPos
		}
		c.hidden, c.last, c.unread, c.dirty = true, nil, 0, true
		return nil
	})
}

// MarkSeen implements app.StateStore. Seen by self recomputes the unread
// count; with disappear-after-seen it starts the clock of the messages it
// covers (others' on self's seen, own once every other member saw them).
func (s *Store) MarkSeen(ctx context.Context, conv app.ConvID, member app.PeerKey, upTo app.EventID) error {
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		c, err := w.conv(conv)
		if err != nil {
			return err
		}
		var mconv, pos []byte
		if err := w.tx.QueryRowContext(ctx, `SELECT conv, pos FROM messages
			WHERE rid IN `+ridsOf+` AND id = ?1`, upTo[:]).Scan(&mconv, &pos); err != nil {
			return notFound("mark seen", err)
		}
		if !bytes.Equal(mconv, conv[:]) {
			return fmt.Errorf("store: mark seen: %w: message is in another conversation", app.ErrInvalid)
		}
		res, err := w.exec("mark seen", `INSERT INTO seen (conv, member, pos, event) VALUES (?, ?, ?, ?)
			ON CONFLICT (conv, member) DO UPDATE SET pos = excluded.pos, event = excluded.event
			WHERE excluded.pos > seen.pos`, conv[:], member[:], pos, upTo[:])
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // never backwards
		}
		now := ms(w.now)
		if !w.self.IsZero() && member == w.self {
			c.selfSeen = pos
			if err := w.recomputeUnread(c); err != nil {
				return err
			}
			_, err := w.exec("start disappearing", `UPDATE messages SET expires_at = ?
				WHERE conv = ? AND pos <= ? AND after_seen = 1 AND expires_at IS NULL AND author != ?`,
				now, conv[:], pos, w.self[:])
			return err
		}
		if w.self.IsZero() {
			return nil
		}
		// Own messages every other current member has seen.
		var cover []byte
		var missing int
		if err := w.tx.QueryRowContext(ctx, `SELECT min(s.pos), sum(s.pos IS NULL) FROM members m
			LEFT JOIN seen s ON s.conv = m.conv AND s.member = m.member
			WHERE m.conv = ? AND m.member != ?`, conv[:], w.self[:]).Scan(&cover, &missing); err != nil {
			return fmt.Errorf("store: mark seen: %w", err)
		}
		if cover == nil || missing > 0 {
			return nil
		}
		_, err = w.exec("start disappearing", `UPDATE messages SET expires_at = ?
			WHERE conv = ? AND pos <= ? AND after_seen = 1 AND expires_at IS NULL AND author = ?`,
			now, conv[:], cover, w.self[:])
		return err
	})
}

// MarkDelivered implements app.StateStore: each peer's watermark per
// conversation moves up to the highest own seq it acked.
func (s *Store) MarkDelivered(ctx context.Context, ds []app.Delivery) ([]app.ConvID, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	var touched []app.ConvID
	err := s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		touched = touched[:0]
		type mark struct {
			conv app.ConvID
			peer app.PeerKey
		}
		// A group message comes back acked by every member in one
		// batch: look each event up once, not once per member.
		type pos struct {
			conv app.ConvID
			seq  int64
			mine bool
		}
		found := make(map[app.EventID]pos)
		upTo := make(map[mark]int64)
		var order []mark
		for _, d := range ds {
			for _, id := range d.IDs {
				p, ok := found[id]
				if !ok {
					var conv []byte
					err := w.tx.QueryRowContext(ctx, `SELECT conv, seq FROM events WHERE rid IN `+ridsOf+` AND id = ?1 AND author = ?2`,
						id[:], w.self[:]).Scan(&conv, &p.seq)
					switch {
					case errors.Is(err, sql.ErrNoRows):
					case err != nil:
						return fmt.Errorf("store: mark delivered: %w", err)
					default:
						p.conv, p.mine = app.ConvID(key32(conv)), true
					}
					found[id] = p
				}
				if !p.mine {
					continue // not an own event
				}
				k := mark{p.conv, d.By}
				if have, ok := upTo[k]; !ok {
					order = append(order, k)
				} else if have >= p.seq {
					continue
				}
				upTo[k] = p.seq
			}
		}
		seen := make(map[app.ConvID]bool)
		for _, k := range order {
			res, err := w.exec("mark delivered", `INSERT INTO delivered_upto (conv, peer, seq) VALUES (?1, ?2, ?3)
				ON CONFLICT (conv, peer) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > seq`,
				k.conv[:], k.peer[:], upTo[k])
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 && !seen[k.conv] {
				seen[k.conv] = true
				touched = append(touched, k.conv)
			}
		}
		return nil
	})
	return touched, err
}

// PurgeExpired implements app.LogStore.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) ([]app.ConvID, error) {
	var touched []app.ConvID
	err := s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		rows, err := w.tx.QueryContext(ctx, `SELECT id FROM messages
			WHERE expires_at IS NOT NULL AND unsent = 0 AND expired = 0 AND expires_at <= ?`, ms(now))
		if err != nil {
			return fmt.Errorf("store: purge expired: %w", err)
		}
		var ids [][32]byte
		for rows.Next() {
			var id []byte
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: purge expired: %w", err)
			}
			ids = append(ids, key32(id))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: purge expired: %w", err)
		}
		seen := map[app.ConvID]bool{}
		for _, id := range ids {
			t, ok, err := w.target(id)
			if err != nil || !ok {
				return fmt.Errorf("store: purge expired: %w", err)
			}
			c, err := w.conv(t.conv)
			if err != nil {
				return err
			}
			if err := w.purge(c, t, true); err != nil {
				return err
			}
			if !seen[t.conv] {
				seen[t.conv] = true
				touched = append(touched, t.conv)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return touched, nil
}

func (s *Store) getJSON(ctx context.Context, key string, v any) (bool, error) {
	var val string
	err := s.rq.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&val)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(val), v); err != nil {
		return false, fmt.Errorf("store: read %s: %w", key, err)
	}
	return true, nil
}

func (s *Store) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: save %s: %w", key, err)
	}
	if _, err := s.wq.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(b)); err != nil {
		return fmt.Errorf("store: save %s: %w", key, err)
	}
	return nil
}

// Settings implements app.StateStore.
func (s *Store) Settings(ctx context.Context) (app.Settings, error) {
	st := app.DefaultSettings
	if _, err := s.getJSON(ctx, "settings", &st); err != nil {
		return app.Settings{}, err
	}
	return st, nil
}

// SaveSettings implements app.StateStore.
func (s *Store) SaveSettings(ctx context.Context, st app.Settings) error {
	return s.putJSON(ctx, "settings", st)
}

// Profile implements app.StateStore; ErrNotFound before the first save.
func (s *Store) Profile(ctx context.Context) (app.Profile, error) {
	var p app.Profile
	ok, err := s.getJSON(ctx, "profile", &p)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, fmt.Errorf("store: profile: %w", app.ErrNotFound)
	}
	return p, nil
}

// SaveProfile implements app.StateStore.
func (s *Store) SaveProfile(ctx context.Context, p app.Profile) error {
	return s.putJSON(ctx, "profile", p)
}

// reportedMessage is what a report keeps of each message.
type reportedMessage struct {
	ID     string    `json:"id"`
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
	System string    `json:"system,omitempty"`
}

// SaveReport implements app.StateStore: it keeps a snapshot of the
// reported messages as they are now.
func (s *Store) SaveReport(ctx context.Context, conv app.ConvID, reason string, msgs []app.EventID) error {
	snap := []reportedMessage{}
	for _, id := range msgs {
		m, err := s.Message(ctx, id)
		if err != nil {
			return fmt.Errorf("store: report: %w", err)
		}
		snap = append(snap, reportedMessage{ID: m.ID.String(), Author: m.Author.String(), Time: m.Time,
			Kind: m.Kind.String(), Text: m.Text, System: m.System})
	}
	b, _ := json.Marshal(snap)
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		_, err := w.exec("save report", `INSERT INTO reports (conv, reason, messages, at) VALUES (?, ?, ?, ?)`,
			conv[:], reason, string(b), ms(w.now))
		return err
	})
}

// People.

const personCols = `key, handle, name, bio, avatar, box_key, addrs, contact, blocked, restricted, version, key_changed, mailbox`

func scanPerson(sc interface{ Scan(...any) error }) (app.Person, error) {
	var (
		p                                        app.Person
		key, avatar, box                         []byte
		addrs                                    string
		mailbox                                  sql.NullString
		contact, blocked, restricted, keyChanged int
	)
	if err := sc.Scan(&key, &p.Handle, &p.Name, &p.Bio, &avatar, &box, &addrs, &contact, &blocked, &restricted,
		&p.Version, &keyChanged, &mailbox); err != nil {
		return p, err
	}
	if mailbox.Valid {
		if err := json.Unmarshal([]byte(mailbox.String), &p.Mailbox); err != nil {
			return p, err
		}
	}
	p.Key, p.Avatar, p.BoxKey = key32(key), key32(avatar), key32(box)
	p.Contact, p.Blocked, p.Restricted, p.KeyChanged = contact != 0, blocked != 0, restricted != 0, keyChanged != 0
	if err := json.Unmarshal([]byte(addrs), &p.Addrs); err != nil {
		return p, err
	}
	return p, nil
}

// Person implements app.PeopleStore.
func (s *Store) Person(ctx context.Context, key app.PeerKey) (app.Person, error) {
	p, err := scanPerson(s.rq.QueryRowContext(ctx, `SELECT `+personCols+` FROM people WHERE key = ?`, key[:]))
	if err != nil {
		return p, notFound("person", err)
	}
	return p, nil
}

func normHandle(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@"))
}

// PersonByHandle implements app.PeopleStore: a matching contact wins;
// several matches of the same rank are ErrAmbiguous.
func (s *Store) PersonByHandle(ctx context.Context, handle string) (app.Person, error) {
	h := normHandle(handle)
	if h == "" {
		return app.Person{}, app.Userf(app.ErrInvalid, "empty handle")
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT `+personCols+` FROM people WHERE handle_lc = ?
		ORDER BY contact DESC LIMIT 3`, h)
	if err != nil {
		return app.Person{}, fmt.Errorf("store: person by handle: %w", err)
	}
	defer rows.Close()
	var found []app.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return app.Person{}, fmt.Errorf("store: person by handle: %w", err)
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return app.Person{}, fmt.Errorf("store: person by handle: %w", err)
	}
	switch {
	case len(found) == 0:
		return app.Person{}, fmt.Errorf("store: person @%s: %w", h, app.ErrNotFound)
	case len(found) == 1 || found[0].Contact != found[1].Contact:
		return found[0], nil
	}
	return app.Person{}, app.Userf(app.ErrAmbiguous, "several people are called @%s", h)
}

// People implements app.PeopleStore.
func (s *Store) People(ctx context.Context, contactsOnly bool) ([]app.Person, error) {
	q := `SELECT ` + personCols + ` FROM people`
	if contactsOnly {
		q += ` WHERE contact = 1`
	}
	q += ` ORDER BY CASE WHEN name != '' THEN lower(name) ELSE handle_lc END, key`
	rows, err := s.rq.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: people: %w", err)
	}
	defer rows.Close()
	var out []app.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("store: people: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PutPerson implements app.PeopleStore.
func (s *Store) PutPerson(ctx context.Context, key app.PeerKey, update func(*app.Person)) (app.Person, error) {
	var p app.Person
	err := s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		var err error
		p, err = scanPerson(w.tx.QueryRowContext(ctx, `SELECT `+personCols+` FROM people WHERE key = ?`, key[:]))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			p = app.Person{Key: key}
		case err != nil:
			return fmt.Errorf("store: put person: %w", err)
		}
		update(&p)
		p.Key = key
		if p.Addrs == nil {
			p.Addrs = []string{}
		}
		addrs, _ := json.Marshal(p.Addrs)
		var mailbox any // NULL when none
		if p.Mailbox != nil {
			b, _ := json.Marshal(p.Mailbox)
			mailbox = string(b)
		}
		_, err = w.exec("put person", `INSERT INTO people (`+personCols+`, handle_lc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET handle = excluded.handle, name = excluded.name, bio = excluded.bio,
				avatar = excluded.avatar, box_key = excluded.box_key, addrs = excluded.addrs,
				contact = excluded.contact, blocked = excluded.blocked, restricted = excluded.restricted,
				version = excluded.version, key_changed = excluded.key_changed, mailbox = excluded.mailbox,
				handle_lc = excluded.handle_lc`,
			key[:], p.Handle, p.Name, p.Bio, p.Avatar[:], p.BoxKey[:], string(addrs), b2i(p.Contact), b2i(p.Blocked),
			b2i(p.Restricted), p.Version, b2i(p.KeyChanged), mailbox, normHandle(p.Handle))
		return err
	})
	if err != nil {
		return app.Person{}, err
	}
	return p, nil
}
