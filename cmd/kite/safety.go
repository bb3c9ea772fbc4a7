package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/skip2/go-qrcode"

	"kite/app"
)

// safety shows the safety number with a contact, as text and optionally
// as a QR code; --verify clears a key-change warning after comparing.
func (c *cli) safety(args []string) error {
	var g globals
	var qr string
	var verify bool
	fs := flagSet("safety", &g)
	fs.StringVar(&qr, "qr", "", "also write the safety number as a QR code PNG to this file")
	fs.BoolVar(&verify, "verify", false, "you compared the numbers: clear the key-change warning")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: kite safety WHO [--qr FILE.png] [--verify]")
	}
	cl, done, err := c.api(&g)
	if err != nil {
		return err
	}
	defer done()
	who := esc(pos[0])
	if verify {
		if err := cl.Do(c.ctx, http.MethodPost, "/v1/people/"+who+"/verify", nil, nil); err != nil {
			return err
		}
	}
	var raw json.RawMessage
	if err := cl.Do(c.ctx, http.MethodGet, "/v1/people/"+who+"/safety", nil, &raw); err != nil {
		return err
	}
	var s app.Safety
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if qr != "" {
		if err := qrcode.WriteFile(s.Number, qrcode.Medium, 512, qr); err != nil {
			return fmt.Errorf("write the QR code: %w", err)
		}
	}
	if g.json {
		_, err := c.out.Write(raw)
		return err
	}
	fmt.Fprintf(c.out, "safety number with %s:\n%s\n", pos[0], s.Number)
	if s.KeyChanged {
		fmt.Fprintln(c.out, "warning: their encryption key changed; compare the numbers, then run 'kite safety "+pos[0]+" --verify'")
	}
	return nil
}
