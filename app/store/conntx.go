package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// connTx is a transaction run by hand (BEGIN … COMMIT) on one pooled
// connection, with statements that ignore their context's cancellation.
//
// Why not *sql.Tx: with a cancellable context, database/sql starts a
// goroutine for the transaction and one for every result set opened in
// it, and go-sqlite3 runs every statement on a goroutine of its own so
// it can interrupt it. A received message's transaction runs a dozen
// statements; those goroutines, and the wake-ups that end them, were a
// measurable share of delivering it, in CPU and in latency. SQLite
// statements here take micro- to milliseconds, so nothing is lost by
// letting one finish: a cancelled caller still stops before it begins.
type connTx struct {
	quiet[*sql.Conn]
	done bool
}

// runner is what *sql.DB and *sql.Conn share.
type runner interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// quiet runs statements on c with a context that cannot be cancelled,
// whatever context they are given: for the same reasons as connTx, a
// single query on a pool with a cancellable context costs a goroutine.
type quiet[R runner] struct{ c R }

func (q quiet[R]) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return q.c.ExecContext(context.Background(), query, args...)
}

func (q quiet[R]) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.c.QueryContext(context.Background(), query, args...)
}

func (q quiet[R]) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return q.c.QueryRowContext(context.Background(), query, args...)
}

// begin takes a connection from db and opens a transaction on it with
// stmt: "BEGIN IMMEDIATE" for the writer, "BEGIN" for readers.
func begin(ctx context.Context, db *sql.DB, stmt string) (*connTx, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(context.Background(), stmt); err != nil {
		c.Close()
		return nil, err
	}
	return &connTx{quiet: quiet[*sql.Conn]{c}}, nil
}

// Commit commits and returns the connection to its pool.
func (t *connTx) Commit() error {
	if t.done {
		return errors.New("store: commit: transaction already ended")
	}
	if _, err := t.c.ExecContext(context.Background(), "COMMIT"); err != nil {
		return errors.Join(err, t.end())
	}
	t.done = true
	return t.c.Close()
}

// Rollback ends the transaction unless it was committed; it is safe to
// defer.
func (t *connTx) Rollback() error {
	if t.done {
		return nil
	}
	return t.end()
}

// end rolls back and releases the connection. A connection whose
// transaction cannot be closed for certain (ROLLBACK failed, or found
// that SQLite had already rolled back after a failed COMMIT) is dropped
// from the pool rather than handed to the next caller still inside it.
func (t *connTx) end() error {
	t.done = true
	_, err := t.c.ExecContext(context.Background(), "ROLLBACK")
	if err != nil {
		_ = t.c.Raw(func(any) error { return driver.ErrBadConn })
	}
	if cerr := t.c.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: rollback: %w", err)
	}
	return nil
}
