package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kite/app"
	"kite/app/blobs"
	"kite/app/localapi"
)

// maxFileSize is the blob store's cap: KITE_MAX_FILE_SIZE bytes (suffixes
// K, M, G in binary units), else 2 GiB.
func maxFileSize() int64 {
	v := strings.TrimSpace(strings.ToUpper(os.Getenv("KITE_MAX_FILE_SIZE")))
	if v == "" {
		return blobs.DefaultMaxSize
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if strings.HasSuffix(strings.TrimSuffix(v, "IB"), suffix) {
			v, mult = strings.TrimSuffix(strings.TrimSuffix(v, "IB"), suffix), m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return blobs.DefaultMaxSize
	}
	return n * mult
}

// openBlobs opens the data dir's blob store.
func openBlobs(dir string) (*blobs.Store, error) {
	b, err := blobs.Open(filepath.Join(dir, "blobs"), maxFileSize())
	if err != nil {
		return nil, fmt.Errorf("open the file store: %w", err)
	}
	return b, nil
}

// fileCommands adds send-file and save.
func (c *cli) fileCommands(out map[string]func([]string) error) {
	out["send-file"] = c.sendFile
	out["save"] = c.saveFile
}

func (c *cli) sendFile(args []string) error {
	var g globals
	var viewOnce, replay bool
	var caption, replyTo string
	fs := flagSet("send-file", &g)
	fs.BoolVar(&viewOnce, "view-once", false, "the recipient can view it once")
	fs.BoolVar(&replay, "replay", false, "the recipient can view it once and replay it once")
	fs.StringVar(&caption, "caption", "", "caption")
	fs.StringVar(&replyTo, "reply-to", "", "message ID to reply to")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (viewOnce && replay) {
		return usagef("usage: kite send-file TO PATH [--view-once | --replay] [--caption C]")
	}
	path, err := filepath.Abs(pos[1])
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return usagef("send-file: %s: %v", pos[1], errors.Unwrap(err))
	}
	mode := "keep"
	switch {
	case viewOnce:
		mode = "view-once"
	case replay:
		mode = "replay"
	}
	cl, done, err := c.api(&g)
	if err != nil {
		return err
	}
	defer done()
	var sent localapi.Sent
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- cl.Do(ctx, http.MethodPost, "/v1/conversations/"+esc(pos[0])+"/files",
			localapi.FileReq{Path: path, Mode: mode, Caption: caption, ReplyTo: replyTo}, &sent)
	}()
	bar := &progressBar{w: c.errOut, label: "importing " + filepath.Base(path)}
	// Show the import of big files; small ones are done before a bar helps.
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			if bar.shown {
				if err == nil {
					bar.update(fi.Size(), fi.Size())
				}
				bar.end()
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c, sent)
			}
			fmt.Fprintf(c.out, "%s in %s\n", sent.ID, sent.Conv)
			if sent.Refusal != "" {
				return usagef("not delivered: %s", sent.Refusal)
			}
			return nil
		case <-tick.C:
			if fi.Size() < 8<<20 || mode != "keep" {
				continue
			}
			var ts []app.Transfer
			if cl.Do(ctx, http.MethodGet, "/v1/transfers", nil, &ts) != nil {
				continue
			}
			for _, t := range ts {
				if t.Direction == "import" && t.Name == filepath.Base(path) && !t.Finished() {
					bar.update(t.Done, t.Total)
				}
			}
		}
	}
}

func (c *cli) saveFile(args []string) error {
	var g globals
	var wait bool
	fs := flagSet("save", &g)
	fs.BoolVar(&wait, "wait", false, "wait for a file that has not arrived yet")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: kite save MEDIA-ID PATH [--wait]")
	}
	dst, err := filepath.Abs(pos[1])
	if err != nil {
		return err
	}
	cl, done, err := c.api(&g)
	if err != nil {
		return err
	}
	defer done()
	var me localapi.Me
	if err := cl.Do(c.ctx, http.MethodGet, "/v1/me", nil, &me); err != nil {
		return err
	}
	var msg app.Message
	if err := cl.Do(c.ctx, http.MethodGet, "/v1/messages/"+esc(pos[0]), nil, &msg); err != nil {
		return err
	}
	bar := &progressBar{w: c.errOut, label: "downloading"}
	if msg.Media != nil {
		bar.label = "downloading " + msg.Media.Name
	}
	defer bar.end()
	for {
		err := cl.Do(c.ctx, http.MethodPost, "/v1/messages/"+esc(pos[0])+"/save", localapi.SaveReq{Path: dst}, nil)
		if err == nil {
			if bar.shown && msg.Media != nil {
				bar.update(int64(msg.Media.Size), int64(msg.Media.Size))
			}
			bar.end()
			shown := dst
			if fi, err := os.Stat(dst); err == nil && fi.IsDir() && msg.Media != nil {
				shown = filepath.Join(dst, filepath.Base(filepath.Clean("/"+msg.Media.Name)))
			}
			fmt.Fprintf(c.out, "saved %s\n", shown)
			return nil
		}
		// While a running instance downloads it, show how far it got and
		// wait; otherwise say why not.
		words := plain(err)
		downloading := strings.Contains(words, "still downloading") || (wait && strings.Contains(words, "has not arrived yet"))
		if !me.Running || msg.Media == nil || !downloading {
			return err
		}
		var ts []app.Transfer
		if cl.Do(c.ctx, http.MethodGet, "/v1/transfers", nil, &ts) == nil {
			for _, t := range ts {
				if t.Hash == msg.Media.Hash && t.Direction == "download" && t.Total > 0 {
					bar.update(t.Done, t.Total)
				}
			}
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func printJSON(c *cli, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = c.out.Write(append(b, '\n'))
	return err
}

// progressBar draws one line on stderr: label [=====>    ] 42% 21.0 MB/50.0 MB.
type progressBar struct {
	w     interface{ Write([]byte) (int, error) }
	label string
	shown bool
	last  string
}

func (b *progressBar) update(done, total int64) {
	if total <= 0 {
		return
	}
	const width = 30
	frac := min(1, float64(done)/float64(total))
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	line := fmt.Sprintf("\r%s [%s] %3d%% %s/%s", b.label, bar, int(frac*100), app.HumanBytes(done), app.HumanBytes(total))
	if line == b.last {
		return
	}
	b.last, b.shown = line, true
	fmt.Fprint(b.w, line)
}

func (b *progressBar) end() {
	if b.shown {
		fmt.Fprintln(b.w)
		b.shown = false
	}
}
