package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kite/app"
	"kite/app/store"
)

// demoWords is the vocabulary of `kite demo seed` (cmd/kite/demo.go); the
// search queries are made of it.
var demoWords = strings.Fields(`hey hi hello sure ok thanks see you later tomorrow tonight lunch coffee
meeting photo trip beach mountain kite wind sunny rain park dinner movie music game weekend friday
monday plan call ready done great awesome cool nice love haha yes no maybe soon now where when
how why what train bus bike walk home work office school book read write code ship launch test`)

const demoSeed = 1

// seedResult is a data dir filled by `kite demo seed`.
type seedResult struct {
	dir        string
	msgs       int
	convs      int
	eventsPerS float64
	took       time.Duration
}

var seededRE = regexp.MustCompile(`ingest ([0-9.]+) events/s`)

// seed runs `kite demo seed` into a new data dir (once per size).
func (b *bench) seed(ctx context.Context, msgs, convs int) (*seedResult, error) {
	if s, ok := b.seeded[msgs]; ok {
		return s, nil
	}
	if ok, why := b.haveKite(); !ok {
		return nil, fmt.Errorf("%s", why)
	}
	dir := filepath.Join(b.tmp, fmt.Sprintf("seed-%d", msgs))
	b.logf("kite demo seed --messages %d --conversations %d --seed %d", msgs, convs, demoSeed)
	t := time.Now()
	out, err := b.kiteCmd(ctx, "demo", "seed", "--messages", strconv.Itoa(msgs), "--conversations", strconv.Itoa(convs),
		"--seed", strconv.Itoa(demoSeed), "--data-dir", dir)
	if err != nil {
		return nil, err
	}
	m := seededRE.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("kite demo seed printed no events/s: %q", out)
	}
	eps, _ := strconv.ParseFloat(m[1], 64)
	s := &seedResult{dir: dir, msgs: msgs, convs: convs, eventsPerS: eps, took: time.Since(t)}
	b.logf("  %s", strings.TrimSpace(out))
	b.seeded[msgs] = s
	return s, nil
}

// storeFigures are the read figures of one data set.
type storeFigures struct {
	inboxP50, inboxP99       float64 // ms, page of 50
	newestP50                float64 // ms, newest page of 100 in the biggest conversation
	pageP50, pageP99         float64 // ms, random keyset pages of 100
	searchP50, searchP99     float64 // ms
	bigConv                  app.ConvID
	bigConvMsgs              int
	cursors                  []app.Cursor // the random keyset positions used
	searchQueries            []string
	searchHits, searchMisses int
}

func (b *bench) storageBench(ctx context.Context) error {
	const g = "storage"
	main, second := b.sz, b.sz
	rows := []Row{
		{Group: g, Metric: fmt.Sprintf("ingest with derived tables + FTS, %s messages", num(float64(main.msgs))), Unit: "events/s", Goal: Goal{"≥", 20000}},
		{Group: g, Metric: fmt.Sprintf("inbox page of 50 from %s conversations, p50", num(float64(main.convs))), Unit: "ms", Goal: Goal{"≤", 5}},
		{Group: g, Metric: fmt.Sprintf("conversation page of 100 from %s messages, p50", num(float64(main.msgs/10))), Unit: "ms", Goal: Goal{"≤", 5}},
		{Group: g, Metric: fmt.Sprintf("search over %s messages, p50", num(float64(main.msgs))), Unit: "ms", Goal: Goal{"≤", 50}},
		{Group: g, Metric: fmt.Sprintf("search over %s messages, p99", num(float64(main.msgs))), Unit: "ms", Goal: Goal{"≤", 200}},
	}
	base := len(b.rep.Rows)
	b.rep.Rows = append(b.rep.Rows, rows...)
	row := func(i int) *Row { return &b.rep.Rows[base+i] }

	// The second, smaller size first: it is cheap and feeds the scaling section.
	small, err := b.seed(ctx, second.msgs2, second.convs2)
	if err != nil {
		return err
	}
	sf, err := b.storeReads(ctx, small)
	if err != nil {
		return err
	}
	big, err := b.seed(ctx, main.msgs, main.convs)
	if err != nil {
		return err
	}
	row(0).Kite = f(big.eventsPerS)
	bf, err := b.storeReads(ctx, big)
	if err != nil {
		return err
	}
	row(1).Kite, row(2).Kite, row(3).Kite, row(4).Kite = f(bf.inboxP50), f(bf.pageP50), f(bf.searchP50), f(bf.searchP99)
	row(1).Note = fmt.Sprintf("p99 %s ms over every page of the inbox, walked by keyset", num(bf.inboxP99))
	row(2).Note = fmt.Sprintf("random keyset pages in the biggest conversation (%s messages); p99 %s ms; newest page p50 %s ms",
		num(float64(bf.bigConvMsgs)), num(bf.pageP99), num(bf.newestP50))
	row(3).Note = fmt.Sprintf("%d queries of demo words, prefixes and word pairs, 50 results each, newest first (%d with no hit)",
		len(bf.searchQueries), bf.searchMisses)

	n1, n2 := float64(small.msgs), float64(big.msgs)
	b.scale(Scale{Metric: "ingest", Param: "messages", Unit: "events/s", N1: n1, V1: small.eventsPerS, N2: n2, V2: big.eventsPerS,
		Note: "a rate: ×1 per doubling means the rate holds as the database grows"})
	b.scale(Scale{Metric: "seed time (ingest wall time)", Param: "messages", Unit: "s", N1: n1, V1: small.took.Seconds(), N2: n2, V2: big.took.Seconds()})
	b.scale(Scale{Metric: "inbox page of 50, p50", Param: "messages", Unit: "ms", N1: n1, V1: sf.inboxP50, N2: n2, V2: bf.inboxP50,
		Note: fmt.Sprintf("conversations grow with messages: %s → %s", num(float64(small.convs)), num(float64(big.convs)))})
	b.scale(Scale{Metric: "conversation page of 100, p50", Param: "messages", Unit: "ms", N1: float64(sf.bigConvMsgs), V1: sf.pageP50, N2: float64(bf.bigConvMsgs), V2: bf.pageP50,
		Note: "n is the messages in the conversation read"})
	b.scale(Scale{Metric: "search p50", Param: "messages", Unit: "ms", N1: n1, V1: sf.searchP50, N2: n2, V2: bf.searchP50})
	b.scale(Scale{Metric: "search p99", Param: "messages", Unit: "ms", N1: n1, V1: sf.searchP99, N2: n2, V2: bf.searchP99})
	b.scale(Scale{Metric: "database size", Param: "messages", Unit: "MB", N1: n1, V1: dbMB(small.dir), N2: n2, V2: dbMB(big.dir)})

	// Floors on the same data.
	fl, err := b.sqliteFloors(ctx, big, bf)
	if err != nil {
		return fmt.Errorf("floors: %w", err)
	}
	row(0).Floor, row(0).FloorName = f(fl.insertPerS), "bare SQLite batch insert"
	row(1).Floor, row(1).FloorName = f(fl.inboxP50), "bare keyset query"
	row(2).Floor, row(2).FloorName = f(fl.pageP50), "bare keyset query"
	row(3).Floor, row(3).FloorName = f(fl.searchP50), "bare FTS5"
	row(4).Floor, row(4).FloorName = f(fl.searchP99), "bare FTS5"
	return nil
}

func dbMB(dir string) float64 {
	var n int64
	for _, suf := range []string{"", "-wal"} {
		if st, err := os.Stat(filepath.Join(dir, "kite.db"+suf)); err == nil {
			n += st.Size()
		}
	}
	return float64(n) / 1e6
}

// storeReads opens the seeded store with store.Open and times the reads
// the app's views make.
func (b *bench) storeReads(ctx context.Context, s *seedResult) (*storeFigures, error) {
	st, err := store.Open(filepath.Join(s.dir, "kite.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	fig := &storeFigures{}
	rng := rand.New(rand.NewPCG(demoSeed, 99))

	// Inbox: walk every page by keyset, three times.
	var inbox []time.Duration
	for pass := 0; pass < 3 && len(inbox) < 3000; pass++ {
		q := app.InboxQuery{Limit: 50}
		for {
			t := time.Now()
			page, err := st.Inbox(ctx, q)
			inbox = append(inbox, time.Since(t))
			if err != nil {
				return nil, fmt.Errorf("inbox: %w", err)
			}
			if len(page) < 50 {
				break
			}
			last := page[len(page)-1]
			q.Before = &app.InboxCursor{LastAt: last.LastAt, ID: last.ID}
		}
	}
	fig.inboxP50, fig.inboxP99 = percentile(msAll(inbox), 50), percentile(msAll(inbox), 99)

	// The biggest conversation and random positions in it.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.dir, "kite.db")+"?mode=ro&_query_only=1")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if fig.bigConv, fig.bigConvMsgs, err = biggestConv(ctx, db); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT lamport, author, seq FROM messages WHERE conv = ?`, fig.bigConv[:])
	if err != nil {
		return nil, err
	}
	var all []app.Cursor
	for rows.Next() {
		var c app.Cursor
		var author []byte
		if err := rows.Scan(&c.Lamport, &author, &c.Seq); err != nil {
			rows.Close()
			return nil, err
		}
		copy(c.Author[:], author)
		all = append(all, c)
	}
	rows.Close()
	for range 500 {
		fig.cursors = append(fig.cursors, all[rng.IntN(len(all))])
	}
	var newest, pages []time.Duration
	for range 200 {
		t := time.Now()
		if _, err := st.Messages(ctx, fig.bigConv, app.Cursor{}, 100); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
		newest = append(newest, time.Since(t))
	}
	for _, c := range fig.cursors {
		t := time.Now()
		if _, err := st.Messages(ctx, fig.bigConv, c, 100); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
		pages = append(pages, time.Since(t))
	}
	fig.newestP50 = percentile(msAll(newest), 50)
	fig.pageP50, fig.pageP99 = percentile(msAll(pages), 50), percentile(msAll(pages), 99)

	// Search.
	fig.searchQueries = searchQueries(rng)
	for _, q := range fig.searchQueries[:20] { // warm the cache
		if _, err := st.Search(ctx, q, app.ConvID{}, 50); err != nil {
			return nil, fmt.Errorf("search %q: %w", q, err)
		}
	}
	var search []time.Duration
	for _, q := range fig.searchQueries {
		t := time.Now()
		res, err := st.Search(ctx, q, app.ConvID{}, 50)
		search = append(search, time.Since(t))
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", q, err)
		}
		if len(res) == 0 {
			fig.searchMisses++
		} else {
			fig.searchHits++
		}
	}
	fig.searchP50, fig.searchP99 = percentile(msAll(search), 50), percentile(msAll(search), 99)
	b.logf("  %d messages: inbox p50 %s ms, page p50 %s ms (newest %s), search p50 %s / p99 %s ms",
		s.msgs, num(fig.inboxP50), num(fig.pageP50), num(fig.newestP50), num(fig.searchP50), num(fig.searchP99))
	return fig, nil
}

// searchQueries makes about 200 queries of the demo vocabulary: every
// word, prefixes of 2 to 4 letters, and word pairs.
func searchQueries(rng *rand.Rand) []string {
	var qs []string
	qs = append(qs, demoWords...)
	for range 50 {
		w := demoWords[rng.IntN(len(demoWords))]
		n := min(len(w), 2+rng.IntN(3))
		qs = append(qs, w[:n])
	}
	for range 200 - len(qs) {
		qs = append(qs, demoWords[rng.IntN(len(demoWords))]+" "+demoWords[rng.IntN(len(demoWords))])
	}
	rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}

// ftsMatch is how app/store turns typed words into an FTS5 query: each
// term quoted and prefix-matched.
func ftsMatch(q string) string {
	var terms []string
	for _, t := range strings.Fields(q) {
		terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"*`)
	}
	return strings.Join(terms, " ")
}

type floorFigures struct {
	insertPerS           float64
	inboxP50             float64
	pageP50              float64
	searchP50, searchP99 float64
}

// sqliteFloors measures the bare stack on the same rows: a batch insert
// into a plain table, keyset pages on plain indexed tables and FTS5
// queries on a plain FTS5 table.
func (b *bench) sqliteFloors(ctx context.Context, s *seedResult, fig *storeFigures) (*floorFigures, error) {
	src, err := sql.Open("sqlite3", "file:"+filepath.Join(s.dir, "kite.db")+"?mode=ro&_query_only=1")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	type msg struct {
		rid       int64
		conv, pos []byte
		text      string
		id        [32]byte
	}
	b.logf("  floors: reading %d texts", s.msgs)
	rows, err := src.QueryContext(ctx, `SELECT rid, conv, pos, text FROM messages ORDER BY rid`)
	if err != nil {
		return nil, err
	}
	var msgs []msg
	for rows.Next() {
		var m msg
		if err := rows.Scan(&m.rid, &m.conv, &m.pos, &m.text); err != nil {
			rows.Close()
			return nil, err
		}
		m.id = sha256.Sum256([]byte(strconv.FormatInt(m.rid, 10)))
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(b.tmp, fmt.Sprintf("floor-%d.db", s.msgs))
	defer func() {
		for _, suf := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suf)
		}
	}()
	db, err := sql.Open("sqlite3", path+"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE msgs (rid INTEGER PRIMARY KEY, id BLOB NOT NULL, conv BLOB NOT NULL, pos BLOB NOT NULL, text TEXT NOT NULL)`); err != nil {
		return nil, err
	}
	fl := &floorFigures{}
	// Batch insert: one transaction per 1,000 rows, like Store.Ingest's batches.
	t := time.Now()
	for i := 0; i < len(msgs); i += 1000 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO msgs (rid, id, conv, pos, text) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			tx.Rollback()
			return nil, err
		}
		for _, m := range msgs[i:min(i+1000, len(msgs))] {
			if _, err := stmt.ExecContext(ctx, m.rid, m.id[:], m.conv, m.pos, m.text); err != nil {
				tx.Rollback()
				return nil, err
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	fl.insertPerS = float64(len(msgs)) / time.Since(t).Seconds()
	b.logf("  floor insert: %s rows/s", num(fl.insertPerS))

	// Conversation page: the same keyset positions on a plain index.
	if _, err := db.ExecContext(ctx, `CREATE INDEX msgs_pos ON msgs (conv, pos)`); err != nil {
		return nil, err
	}
	var pages []time.Duration
	for _, c := range fig.cursors {
		pos := make([]byte, 48)
		putBE(pos[:8], c.Lamport)
		copy(pos[8:40], c.Author[:])
		putBE(pos[40:], c.Seq)
		t := time.Now()
		if err := drain(db.QueryContext(ctx, `SELECT rid, id, pos, text FROM msgs WHERE conv = ? AND pos < ? ORDER BY pos DESC LIMIT 100`, fig.bigConv[:], pos)); err != nil {
			return nil, err
		}
		pages = append(pages, time.Since(t))
	}
	fl.pageP50 = percentile(msAll(pages), 50)

	// Inbox: a plain table of the same conversations, by last_at.
	if _, err := db.ExecContext(ctx, `CREATE TABLE convs (id BLOB PRIMARY KEY, last_at INTEGER NOT NULL, title TEXT NOT NULL, last_text TEXT);
		CREATE INDEX convs_last ON convs (last_at, id)`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `ATTACH DATABASE ? AS src`, "file:"+filepath.Join(s.dir, "kite.db")+"?mode=ro"); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO convs SELECT id, last_at, name, last_text FROM src.conversations`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `DETACH DATABASE src`); err != nil {
		return nil, err
	}
	var inbox []time.Duration
	for pass := 0; pass < 3 && len(inbox) < 3000; pass++ {
		var lastAt int64 = 1 << 62
		var lastID []byte = []byte{0xff}
		for {
			t := time.Now()
			r, err := db.QueryContext(ctx, `SELECT id, last_at, title, last_text FROM convs WHERE (last_at, id) < (?, ?) ORDER BY last_at DESC, id DESC LIMIT 50`, lastAt, lastID)
			if err != nil {
				return nil, err
			}
			n := 0
			for r.Next() {
				var title string
				var lt sql.NullString
				if err := r.Scan(&lastID, &lastAt, &title, &lt); err != nil {
					r.Close()
					return nil, err
				}
				n++
			}
			r.Close()
			inbox = append(inbox, time.Since(t))
			if n < 50 {
				break
			}
		}
	}
	fl.inboxP50 = percentile(msAll(inbox), 50)

	// FTS5: a plain table of the same texts.
	b.logf("  floors: building a plain FTS5 table")
	if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE fts USING fts5 (text, tokenize = 'unicode61')`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO fts (rowid, text) SELECT rid, text FROM msgs`); err != nil {
		return nil, err
	}
	for _, q := range fig.searchQueries[:20] {
		if err := drain(db.QueryContext(ctx, `SELECT rowid, text FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 50`, ftsMatch(q))); err != nil {
			return nil, err
		}
	}
	var search []time.Duration
	for _, q := range fig.searchQueries {
		t := time.Now()
		if err := drain(db.QueryContext(ctx, `SELECT rowid, text FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 50`, ftsMatch(q))); err != nil {
			return nil, err
		}
		search = append(search, time.Since(t))
	}
	fl.searchP50, fl.searchP99 = percentile(msAll(search), 50), percentile(msAll(search), 99)
	b.logf("  floors: inbox p50 %s ms, page p50 %s ms, FTS5 p50 %s / p99 %s ms", num(fl.inboxP50), num(fl.pageP50), num(fl.searchP50), num(fl.searchP99))
	return fl, nil
}

func putBE(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// drain reads every row of a query and closes it.
func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(sql.RawBytes)
	}
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// biggestConv is the conversation with the most messages, and how many.
func biggestConv(ctx context.Context, db *sql.DB) (app.ConvID, int, error) {
	var conv []byte
	var n int
	if err := db.QueryRowContext(ctx, `SELECT conv, count(*) AS n FROM messages GROUP BY conv ORDER BY n DESC LIMIT 1`).Scan(&conv, &n); err != nil {
		return app.ConvID{}, 0, fmt.Errorf("biggest conversation: %w", err)
	}
	var id app.ConvID
	copy(id[:], conv)
	return id, n, nil
}
