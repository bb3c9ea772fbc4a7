package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"kite/app"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// driverName is go-sqlite3 with the per-connection settings the DSN
// cannot carry: statement journals (one per ingested event, see Ingest)
// and temp tables live in memory.
const driverName = "sqlite3_kite"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(`PRAGMA temp_store = MEMORY`, nil)
			return err
		},
	})
}

// Store implements app.Store on SQLite.
type Store struct {
	w  *sql.DB        // the one writer connection
	r  *sql.DB        // read pool, query_only
	rq quiet[*sql.DB] // r for single statements (see connTx)
	wq quiet[*sql.DB] // w for single statements

	// now is the clock for receipts and disappearing messages.
	now func() time.Time

	mu   sync.Mutex // mu guards the fields below.
	self app.PeerKey

	// wmu serialises write transactions with the durability setting
	// they need; it guards the fields below.
	wmu  sync.Mutex
	full bool // the writer connection runs synchronous=FULL
	// newIDs counts the rows of ids_new (more, if a savepoint undid an
	// insert); Ingest moves them into ids once there are mergeIDsAt(n)
	// of them, n being the events stored (tests change the function).
	newIDs     int
	mergeIDsAt func(n int64) int
	// ftsUpto is the search index's watermark (fts_state.upto), msgTop
	// the newest message rid, ftsTimer the pending indexing, if armed.
	ftsUpto, msgTop int64
	ftsTimer        *time.Timer
	ftsDelay        time.Duration
}

// mergeIDsAt is the size of ids_new at which Ingest moves it into ids
// (see 0004_ids.sql), when n events are stored. A batch of b events
// rewrites about every page of ids_new (~170 IDs a page) and a merge
// about every page of ids (~240 a page), so a batch costs about
// k/340 + b·n/(240·k) pages, least near k = √(1.4·b·n): with batches of
// 1,000, about 37,000 at a million events. It is never below 32,768, so
// that small databases merge rarely, nor is ids_new ever big enough to
// crowd the writer's cache.
func mergeIDsAt(n int64) int {
	return max(1<<15, int(math.Sqrt(1400*float64(n))))
}

var _ app.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it.
func Open(path string) (*Store, error) {
	// Page caches stay small: idle memory matters more on a desktop than
	// the last few percent of read speed (the OS caches the file too).
	const common = "_busy_timeout=5000&_foreign_keys=on&_stmt_cache_size=128"
	w, err := sql.Open(driverName, path+"?"+common+"&_cache_size=-8000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Checkpoint the WAL every ~40 MB rather than every 4 MB: ingest
	// commits spend less time copying pages back into the database.
	if _, err := w.Exec(`PRAGMA wal_autocheckpoint = 10000`); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := migrate(w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(driverName, path+"?"+common+"&_cache_size=-2000&_synchronous=NORMAL&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open reader: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(2)
	if err := r.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open reader: %w", err)
	}
	s := &Store{w: w, r: r, rq: quiet[*sql.DB]{r}, wq: quiet[*sql.DB]{w}, now: time.Now, mergeIDsAt: mergeIDsAt, ftsDelay: ftsDelay}
	if err := w.QueryRow(`SELECT count(*) FROM ids_new`).Scan(&s.newIDs); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: count new IDs: %w", err)
	}
	if err := w.QueryRow(`SELECT upto, (SELECT coalesce(max(rid), 0) FROM messages) FROM fts_state`).Scan(&s.ftsUpto, &s.msgTop); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: read search index state: %w", err)
	}
	var v string
	switch err := w.QueryRow(`SELECT value FROM settings WHERE key = 'self'`).Scan(&v); {
	case err == nil:
		if err := json.Unmarshal([]byte(v), &s.self); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: read self: %w", err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		s.Close()
		return nil, fmt.Errorf("store: read self: %w", err)
	}
	return s, nil
}

// Close closes both pools. Rows not yet in the search index stay
// pending in the database and are indexed after the next Open.
func (s *Store) Close() error {
	s.wmu.Lock()
	if s.ftsTimer != nil {
		s.ftsTimer.Stop()
		s.ftsTimer = nil
	}
	s.wmu.Unlock()
	return errors.Join(s.r.Close(), s.w.Close())
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the pending migrations in one transaction. db must
// hold a single connection: foreign keys are turned off on it around the
// transaction, as SQLite's recipe for rebuilding a table asks (the pragma
// does nothing inside a transaction), and checked before the commit.
func migrate(db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := db.Exec(`PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("store: migrate: foreign keys off: %w", err)
	}
	if err := migrateTx(db, ms); err != nil {
		return err
	}
	if _, err := db.Exec(`PRAGMA foreign_keys = ON`); err != nil {
		return fmt.Errorf("store: migrate: foreign keys on: %w", err)
	}
	return nil
}

func migrateTx(db *sql.DB, ms []migration) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	var have int
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate: read version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("store: migrate: database version %d is newer than this program (%d)", have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := tx.Exec(m.sql); err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
	}
	if have < len(ms) {
		if err := foreignKeyCheck(tx); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(ms))); err != nil {
		return fmt.Errorf("store: migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: commit: %w", err)
	}
	return nil
}

// foreignKeyCheck fails when a row refers to one that does not exist.
func foreignKeyCheck(tx *sql.Tx) error {
	rows, err := tx.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("store: migrate: foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("store: migrate: foreign key check: %w", err)
		}
		return fmt.Errorf("store: migrate: row %d of %s refers to a missing %s row", rowid.Int64, table, parent)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: migrate: foreign key check: %w", err)
	}
	return nil
}

// selfKey is this device's key as recorded by the first Append or Ingest
// (zero before).
func (s *Store) selfKey() app.PeerKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.self
}

// noteSelf records self inside tx the first time it is seen.
func (s *Store) noteSelf(tx *connTx, self app.PeerKey) error {
	if self.IsZero() {
		return nil
	}
	s.mu.Lock()
	known := s.self == self
	s.mu.Unlock()
	if known {
		return nil
	}
	b, _ := json.Marshal(self)
	if _, err := tx.ExecContext(context.Background(), `INSERT INTO settings (key, value) VALUES ('self', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, string(b)); err != nil {
		return fmt.Errorf("store: record self: %w", err)
	}
	return nil
}

func (s *Store) setSelf(self app.PeerKey) {
	if self.IsZero() {
		return
	}
	s.mu.Lock()
	s.self = self
	s.mu.Unlock()
}

// ridsOf is a subquery of the rids that may be the event whose ID is ?1:
// those filed under its first 8 bytes (see 0004_ids.sql). Whoever uses it
// also compares the whole ID.
const ridsOf = `(SELECT rid FROM event_ids WHERE prefix = substr(?1, 1, 8))`

// posKey encodes a display position so that bytes order = display order.
func posKey(lamport uint64, author app.PeerKey, seq uint64) []byte {
	b := make([]byte, 48)
	binary.BigEndian.PutUint64(b, lamport)
	copy(b[8:40], author[:])
	binary.BigEndian.PutUint64(b[40:], seq)
	return b
}

func evPos(ev app.Event) []byte { return posKey(ev.Lamport, ev.Author, ev.Seq) }

// notFound translates sql.ErrNoRows.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, app.ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func key32(b []byte) [32]byte {
	var k [32]byte
	if len(b) == 32 {
		copy(k[:], b)
	}
	return k
}

// readTx runs fn in a read transaction on the reader pool, so multi-query
// reads see one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *connTx) error) error {
	tx, err := begin(ctx, s.r, "BEGIN")
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}
