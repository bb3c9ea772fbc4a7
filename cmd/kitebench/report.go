package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Goal is a performance target: Op is "≤" or "≥" (or "" for a row that
// only reports a figure beside its floor).
type Goal struct {
	Op    string  `json:"op,omitempty"`
	Value float64 `json:"value,omitempty"`
}

// Row is one line of the report. Kite is nil when the metric was not
// measured; Note then says why.
type Row struct {
	Group     string   `json:"group"`
	Metric    string   `json:"metric"`
	Unit      string   `json:"unit"`
	Kite      *float64 `json:"kite"`
	Floor     *float64 `json:"floor"`
	FloorName string   `json:"floor_name,omitempty"`
	Goal      Goal     `json:"goal"`
	Note      string   `json:"note,omitempty"`
	// Filled in for the JSON report.
	RatioV *float64 `json:"ratio"`
	MetV   string   `json:"met"`
}

// higher reports whether bigger figures are better for the row (its goal
// is a minimum).
func (r Row) higher() bool {
	if r.Goal.Op == "≥" {
		return true
	}
	return r.Unit == "events/s" || r.Unit == "MB/s" || r.Unit == "msgs/s" || r.Unit == "ops/s"
}

// Ratio is how many times the floor's cost Kite's figure is: Kite ÷ floor
// for times and sizes, floor ÷ Kite for rates. ok is false when either
// figure is missing or zero.
func (r Row) Ratio() (ratio float64, ok bool) {
	if r.Kite == nil || r.Floor == nil || *r.Kite == 0 || *r.Floor == 0 {
		return 0, false
	}
	if r.higher() {
		return *r.Floor / *r.Kite, true
	}
	return *r.Kite / *r.Floor, true
}

// Met is "yes", "no", or "—" (no goal, or not measured).
func (r Row) Met() string {
	if r.Kite == nil || r.Goal.Op == "" {
		return "—"
	}
	var ok bool
	switch r.Goal.Op {
	case "≤":
		ok = *r.Kite <= r.Goal.Value
	case "≥":
		ok = *r.Kite >= r.Goal.Value
	}
	if ok {
		return "yes"
	}
	return "no"
}

func f(v float64) *float64 { return &v }

// num formats a figure with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		s := fmt.Sprintf("%.0f", v)
		// thousands separators
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func withUnit(v float64, unit string) string {
	if unit == "%" {
		return num(v) + " %"
	}
	return num(v) + " " + unit
}

func (r Row) cells() []string {
	kite := "not measured"
	if r.Kite != nil {
		kite = withUnit(*r.Kite, r.Unit)
	}
	floor := "—"
	if r.Floor != nil {
		floor = withUnit(*r.Floor, r.Unit)
		if r.FloorName != "" {
			floor += " (" + r.FloorName + ")"
		}
	}
	ratio := "—"
	if x, ok := r.Ratio(); ok {
		ratio = "×" + num(x)
	}
	goal := "—"
	if r.Goal.Op != "" {
		goal = r.Goal.Op + " " + withUnit(r.Goal.Value, r.Unit)
	}
	return []string{r.Metric, kite, floor, ratio, goal, r.Met()}
}

var header = []string{"metric", "Kite", "floor (same run)", "ratio", "goal", "met"}

// textTable renders rows for a terminal, notes below.
func textTable(rows []Row) string {
	all := [][]string{header}
	for _, r := range rows {
		all = append(all, r.cells())
	}
	w := make([]int, len(header))
	for _, c := range all {
		for i, s := range c {
			w[i] = max(w[i], len([]rune(s)))
		}
	}
	var b strings.Builder
	for n, c := range all {
		for i, s := range c {
			pad := w[i] - len([]rune(s))
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(s)
			if i < len(c)-1 {
				b.WriteString(strings.Repeat(" ", pad))
			}
		}
		b.WriteByte('\n')
		if n == 0 {
			for i := range w {
				if i > 0 {
					b.WriteString("  ")
				}
				b.WriteString(strings.Repeat("-", w[i]))
			}
			b.WriteByte('\n')
		}
	}
	if notes := notesOf(rows); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString(n + "\n")
		}
	}
	return b.String()
}

func notesOf(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if r.Note != "" {
			out = append(out, "- "+r.Metric+": "+r.Note)
		}
	}
	return out
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// mdTable renders rows as a Markdown table.
func mdTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		c := r.cells()
		for i := range c {
			c[i] = mdEscape(c[i])
		}
		b.WriteString("| " + strings.Join(c, " | ") + " |\n")
	}
	return b.String()
}

// Scale is one metric measured at two sizes of one parameter.
type Scale struct {
	Metric string  `json:"metric"`
	Param  string  `json:"param"` // messages, members, peers
	Unit   string  `json:"unit"`
	N1     float64 `json:"n1"`
	V1     float64 `json:"v1"`
	N2     float64 `json:"n2"`
	V2     float64 `json:"v2"`
	Note   string  `json:"note,omitempty"`
}

// PerDoubling is the factor the figure changes by when the parameter
// doubles, fitted as a power law through the two points.
func (s Scale) PerDoubling() (float64, bool) {
	if s.N1 <= 0 || s.N2 <= 0 || s.N1 == s.N2 || s.V1 <= 0 || s.V2 <= 0 {
		return 0, false
	}
	e := math.Log(s.V2/s.V1) / math.Log(s.N2/s.N1)
	return math.Pow(2, e), true
}

// shape says in words how a per-doubling factor grows.
func shape(k float64) string {
	switch {
	case k < 1.15 && k > 0.87:
		return "about constant"
	case k < 1.6 && k >= 1.15:
		return "sub-linear (grows slower than the input)"
	case k < 2.5 && k >= 1.6:
		return "about linear (doubles with the input)"
	case k >= 2.5:
		return "super-linear"
	}
	return "falls as the input grows"
}

func scalingMarkdown(ss []Scale) string {
	if len(ss) == 0 {
		return "No metric was measured at two sizes in this run.\n"
	}
	var b strings.Builder
	b.WriteString("| metric | parameter | at n₁ | at n₂ | × per doubling | shape |\n|---|---|---|---|---|---|\n")
	for _, s := range ss {
		k, ok := s.PerDoubling()
		kk, sh := "—", "—"
		if ok {
			kk, sh = "×"+num(k), shape(k)
		}
		b.WriteString(fmt.Sprintf("| %s | %s | %s at %s | %s at %s | %s | %s |\n", mdEscape(s.Metric), s.Param,
			withUnit(s.V1, s.Unit), num(s.N1), withUnit(s.V2, s.Unit), num(s.N2), kk, sh))
	}
	for _, s := range ss {
		if s.Note != "" {
			b.WriteString("\n- " + s.Metric + ": " + s.Note)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// percentile is the p-th percentile (0..100) of xs by nearest rank; xs
// need not be sorted and is not changed. NaN for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msAll(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms(d)
	}
	return out
}

// Machine describes where the run happened.
type Machine struct {
	Cores     int    `json:"cores"`
	MemTotal  string `json:"mem_total"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	CPU       string `json:"cpu,omitempty"`
	LoadStart string `json:"load_start,omitempty"` // /proc/loadavg: other work on the machine
	LoadEnd   string `json:"load_end,omitempty"`
}

// Report is everything one run found.
type Report struct {
	Size     string    `json:"size"`
	Started  time.Time `json:"started"`
	WallSecs float64   `json:"wall_seconds"`
	Machine  Machine   `json:"machine"`
	Rows     []Row     `json:"rows"`
	Scaling  []Scale   `json:"scaling"`
	Log      []string  `json:"log,omitempty"`
}

func (rep *Report) markdown() string {
	var b strings.Builder
	b.WriteString("# Kite benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`go run -tags sqlite_fts5 ./cmd/kitebench`); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "Run %s, size %s, wall time %s.\n\n", rep.Started.UTC().Format(time.RFC3339), rep.Size,
		(time.Duration(rep.WallSecs) * time.Second).String())
	fmt.Fprintf(&b, "Machine: %d cores, %s memory, %s, %s", rep.Machine.Cores, rep.Machine.MemTotal, rep.Machine.GoVersion, rep.Machine.OS)
	if rep.Machine.CPU != "" {
		fmt.Fprintf(&b, ", %s", rep.Machine.CPU)
	}
	b.WriteString(".\n")
	if rep.Machine.LoadStart != "" {
		fmt.Fprintf(&b, "Load average at start %s, at end %s (other work on the machine slows every figure, floors too).\n", rep.Machine.LoadStart, rep.Machine.LoadEnd)
	}
	b.WriteString("\n")
	b.WriteString("Every floor is measured by the harness in the same run on the same machine. " +
		"The ratio is how many times the floor's cost Kite pays: Kite ÷ floor for times and sizes, floor ÷ Kite for rates " +
		"(×1 = as fast as the bare stack).\n\n")
	b.WriteString(mdTable(rep.Rows))
	if notes := notesOf(rep.Rows); len(notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range notes {
			b.WriteString(mdEscape(n) + "\n")
		}
	}
	b.WriteString("\n## How the figures scale\n\n")
	b.WriteString("Measured at two sizes in this run; \"× per doubling\" is the power-law fit through the two points: " +
		"what a figure is multiplied by when the parameter doubles (×1 constant, ×2 linear).\n\n")
	b.WriteString(scalingMarkdown(rep.Scaling))
	b.WriteString("\nPeers: every metric but fan-out runs between two peers; for fan-out the peers are the group's members, " +
		"so its row above (if measured) is the figure per doubling of peers.\n")
	b.WriteString("\n## Method\n\n" + methodText)
	return b.String()
}

const methodText = `- Data: ` + "`kite demo seed --seed 1`" + ` (one conversation holds a tenth of all messages; one in ten is a group).
- Ingest: the events/s ` + "`kite demo seed`" + ` prints (signed events through Store.Ingest in batches of 1,000, derived tables and FTS in the same transaction). Floor: the same texts inserted into a plain table with the same driver (mattn/go-sqlite3), WAL, synchronous=FULL, one transaction per 1,000 rows.
- Inbox, conversation page and search: Store.Inbox / Store.Messages / Store.Search on the seeded database opened with store.Open. Floors: the same keyset query or FTS5 MATCH on plain tables holding the same rows.
- Crypto: testing.Benchmark of Kite's wrappers (crypto/seal) beside the bare primitives (x/crypto nacl/box, crypto/ed25519), 200-byte message.
- Network floors: two kitebench processes, go-libp2p on 127.0.0.1 (TCP, Noise, yamux): round trip of 100 bytes on an open stream, small-message and bulk throughput.
- Network metrics: two ` + "`kite serve`" + ` processes on 127.0.0.1, made contacts by contact code; arrival is seen on the receiver's ` + "`GET /v1/events`" + ` stream or by polling its local API.
- Fan-out: sync/node peers in the harness process on 127.0.0.1 (real stores and Services), the sender a contact of every member; the time runs from SendText returning at the sender to the last member storing the message.
- GUI: ` + "`kite`" + ` under Xvfb; a window counts as shown when ` + "`xdotool search --onlyvisible --name ^Kite`" + ` finds it.
- Memory: VmRSS after 5 s idle, of ` + "`kite serve`" + ` and of the GUI, on the seeded data dir.
`

func writeReport(rep *Report, out string) error {
	if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if x, ok := r.Ratio(); ok {
			r.RatioV = f(x)
		}
		r.MetV = r.Met()
	}
	js := strings.TrimSuffix(out, filepath.Ext(out)) + ".json"
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(js, append(b, '\n'), 0o644)
}
