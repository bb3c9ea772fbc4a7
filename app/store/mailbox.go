package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kite/app"
)

// Hold implements app.MailboxStore.
func (s *Store) Hold(ctx context.Context, owner app.PeerKey, evs []app.HeldEvent, lim app.MailboxLimits) ([]app.EventID, error) {
	var held []app.EventID
	err := s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		if _, err := w.exec("expire held", `DELETE FROM held WHERE owner = ? AND at < ?`, owner[:], ms(lim.Before)); err != nil {
			return err
		}
		var count, bytes int
		if err := w.tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM held WHERE owner = ?`,
			owner[:]).Scan(&count, &bytes); err != nil {
			return fmt.Errorf("store: hold: %w", err)
		}
		perSender := map[app.PeerKey]int{}
		for _, ev := range evs {
			var have int
			err := w.tx.QueryRowContext(ctx, `SELECT count(*) FROM held WHERE owner = ? AND id = ?`, owner[:], ev.ID[:]).Scan(&have)
			if err != nil {
				return fmt.Errorf("store: hold: %w", err)
			}
			if have > 0 {
				held = append(held, ev.ID)
				continue
			}
			n, ok := perSender[ev.From]
			if !ok {
				if err := w.tx.QueryRowContext(ctx, `SELECT count(*) FROM held WHERE owner = ? AND depositor = ?`,
					owner[:], ev.From[:]).Scan(&n); err != nil {
					return fmt.Errorf("store: hold: %w", err)
				}
			}
			if count+1 > lim.Events || bytes+len(ev.Data) > lim.Bytes || n+1 > lim.PerSender {
				continue // over a limit: left out, the depositor tries again later
			}
			if _, err := w.exec("hold", `INSERT INTO held (owner, id, depositor, data, size, at) VALUES (?, ?, ?, ?, ?, ?)`,
				owner[:], ev.ID[:], ev.From[:], ev.Data, len(ev.Data), ms(ev.At)); err != nil {
				return err
			}
			count, bytes, perSender[ev.From] = count+1, bytes+len(ev.Data), n+1
			held = append(held, ev.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return held, nil
}

// Held implements app.MailboxStore.
func (s *Store) Held(ctx context.Context, owner app.PeerKey, after int64, limit, maxBytes int) ([]app.HeldEvent, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT rid, id, depositor, data, at FROM held WHERE owner = ? AND rid > ?
		ORDER BY rid LIMIT ?`, owner[:], after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: held: %w", err)
	}
	defer rows.Close()
	var (
		out  []app.HeldEvent
		size int
	)
	for rows.Next() {
		var (
			h        app.HeldEvent
			id, from []byte
			at       int64
		)
		if err := rows.Scan(&h.RID, &id, &from, &h.Data, &at); err != nil {
			return nil, fmt.Errorf("store: held: %w", err)
		}
		if len(out) > 0 && size+len(h.Data) > maxBytes {
			break
		}
		h.ID, h.From, h.At = key32(id), key32(from), fromMs(at)
		size += len(h.Data)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Release implements app.MailboxStore.
func (s *Store) Release(ctx context.Context, owner app.PeerKey, rs []app.MailboxReceipt) error {
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		for _, r := range rs {
			var from []byte
			err := w.tx.QueryRowContext(ctx, `DELETE FROM held WHERE owner = ? AND id = ? RETURNING depositor`,
				owner[:], r.ID[:]).Scan(&from)
			if errors.Is(err, sql.ErrNoRows) {
				continue // not held (any more): nothing to report
			}
			if err != nil {
				return fmt.Errorf("store: release held: %w", err)
			}
			if _, err := w.exec("keep receipt", `INSERT OR REPLACE INTO held_receipts (depositor, owner, id, conv, refusal, at)
				VALUES (?, ?, ?, ?, ?, ?)`, from, owner[:], r.ID[:], r.Conv[:], string(r.Refusal), ms(w.now)); err != nil {
				return err
			}
		}
		// Receipts nobody came for go with the events they were about.
		_, err := w.exec("expire receipts", `DELETE FROM held_receipts WHERE at < ?`, ms(w.now.Add(-app.HeldFor)))
		return err
	})
}

// TakeReceipts implements app.MailboxStore.
func (s *Store) TakeReceipts(ctx context.Context, depositor, owner app.PeerKey, limit int) ([]app.MailboxReceipt, error) {
	var out []app.MailboxReceipt
	err := s.write(ctx, app.PeerKey{}, func(w *wtx) error {
		rows, err := w.tx.QueryContext(ctx, `SELECT id, conv, refusal FROM held_receipts
			WHERE depositor = ? AND owner = ? LIMIT ?`, depositor[:], owner[:], limit)
		if err != nil {
			return fmt.Errorf("store: take receipts: %w", err)
		}
		for rows.Next() {
			var (
				r        app.MailboxReceipt
				id, conv []byte
				refusal  string
			)
			if err := rows.Scan(&id, &conv, &refusal); err != nil {
				rows.Close()
				return fmt.Errorf("store: take receipts: %w", err)
			}
			r.ID, r.Conv, r.Refusal = key32(id), key32(conv), app.Refusal(refusal)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: take receipts: %w", err)
		}
		for _, r := range out {
			if _, err := w.exec("take receipt", `DELETE FROM held_receipts WHERE depositor = ? AND owner = ? AND id = ?`,
				depositor[:], owner[:], r.ID[:]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Holdings implements app.MailboxStore.
func (s *Store) Holdings(ctx context.Context) ([]app.Holding, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT owner, count(*), sum(size), min(at) FROM held GROUP BY owner ORDER BY owner`)
	if err != nil {
		return nil, fmt.Errorf("store: holdings: %w", err)
	}
	defer rows.Close()
	var out []app.Holding
	for rows.Next() {
		var (
			h     app.Holding
			owner []byte
			at    int64
		)
		if err := rows.Scan(&owner, &h.Events, &h.Bytes, &at); err != nil {
			return nil, fmt.Errorf("store: holdings: %w", err)
		}
		h.Owner, h.Oldest = key32(owner), fromMs(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Undelivered implements app.MailboxStore.
func (s *Store) Undelivered(ctx context.Context, conv app.ConvID, author, peer app.PeerKey, since time.Time, limit int) ([]app.Event, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+eventCols+` FROM events e
		WHERE conv = ?1 AND author = ?2 AND received_at >= ?3
			AND seq > coalesce((SELECT seq FROM delivered_upto WHERE conv = ?1 AND peer = ?4), 0)
		ORDER BY seq LIMIT ?5`, conv[:], author[:], ms(since), peer[:], limit)
	if err != nil {
		return nil, fmt.Errorf("store: undelivered: %w", err)
	}
	defer rows.Close()
	var out []app.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: undelivered: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
