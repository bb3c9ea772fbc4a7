package store

import (
	"context"
	"time"

	"kite/app"
)

// Search indexing is deferred (see migrations/0007_fts_upto.sql): rows
// above the watermark are indexed at the end of a transaction once there
// are ftsBatch of them, by a timer ftsDelay after the first one, or
// before a search. Store.ftsDelay starts as ftsDelay; tests shorten it.
const (
	ftsBatch = 256
	ftsDelay = 2 * time.Second
)

// indexed reports whether message rid is at or below the watermark, so
// that its search entry exists (if it is searchable) and changes to it
// must change the index too. Rows above it are indexed later from their
// state then.
func (w *wtx) indexed(rid int64) bool { return rid <= w.ftsUpto }

// indexPending indexes the searchable message rows above the watermark
// and moves it to the newest row. The rules are insertMessage's: a row
// with search text, neither unsent, expired nor deleted for me, after
// its conversation's clear.
func (w *wtx) indexPending() error {
	var top int64
	if err := w.tx.QueryRowContext(w.ctx, `SELECT coalesce(max(rid), 0) FROM messages`).Scan(&top); err != nil {
		return err
	}
	// top is exact, where msgTop may name a row a savepoint undid.
	w.msgTop, w.msgTopExact = top, true
	if top <= w.ftsUpto {
		return nil
	}
	if _, err := w.exec("index messages", `INSERT INTO messages_fts (rowid, text)
		SELECT m.rid, coalesce(m.search, m.text) FROM messages m JOIN conversations c ON c.id = m.conv
		WHERE m.rid > ? AND m.rid <= ? AND coalesce(m.search, m.text) <> ''
			AND m.unsent = 0 AND m.expired = 0 AND m.deleted = 0 AND m.pos > c.cleared_pos
		ORDER BY m.rid`, w.ftsUpto, top); err != nil {
		return err
	}
	if _, err := w.exec("index messages", `UPDATE fts_state SET upto = ?`, top); err != nil {
		return err
	}
	w.ftsUpto = top
	return nil
}

// ftsPending tells whether rows wait to be indexed. s.wmu must be held.
func (s *Store) ftsPending() bool { return s.msgTop > s.ftsUpto }

// noteFTS notes what a committed transaction did to the index and arms
// the timer for rows it left unindexed. s.wmu must be held.
func (s *Store) noteFTS(w *wtx) {
	s.ftsUpto = w.ftsUpto
	if w.msgTopExact {
		s.msgTop = w.msgTop
	} else {
		s.msgTop = max(s.msgTop, w.msgTop)
	}
	if s.ftsPending() && s.ftsTimer == nil {
		s.ftsTimer = time.AfterFunc(s.ftsDelay, func() {
			s.wmu.Lock()
			s.ftsTimer = nil
			s.wmu.Unlock()
			// An error leaves the rows for the next try; a search
			// indexes them first in any case.
			_ = s.indexNow(context.Background())
		})
	}
}

// indexNow indexes every pending row, if there are any.
func (s *Store) indexNow(ctx context.Context) error {
	s.wmu.Lock()
	pending := s.ftsPending()
	s.wmu.Unlock()
	if !pending {
		return nil
	}
	return s.write(ctx, app.PeerKey{}, func(w *wtx) error { return w.indexPending() })
}
