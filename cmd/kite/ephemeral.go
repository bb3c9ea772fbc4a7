package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	"kite/app/localapi"
)

// view is `kite view ID [--info]`: it asks the running instance to count
// one view of view-once media sent to this device and prints the size and
// SHA-256 of what was viewed — never the bytes: seeing the photo is the
// app's viewer's job. --info prints its state and who opened it instead,
// counting no view.
func (c *cli) view(args []string) error {
	var g globals
	var info bool
	fs := flagSet("view", &g)
	fs.BoolVar(&info, "info", false, "show the state and who opened it; count no view")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: kite view ID [--info]")
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	cl, ok := localapi.Dial(dir)
	if !ok {
		return usagef("Kite is not running on %s: view-once media lives in the memory of a running 'kite serve' or app", dir)
	}
	method, path := http.MethodPost, "/v1/messages/"+esc(pos[0])+"/view"
	if info {
		method, path = http.MethodGet, "/v1/messages/"+esc(pos[0])+"/ephemeral"
	}
	var raw json.RawMessage
	if err := cl.Do(c.ctx, method, path, nil, &raw); err != nil {
		return err
	}
	if g.json {
		_, err := c.out.Write(raw)
		return err
	}
	if info {
		var e localapi.EphemeralInfo
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		c.names = c.loadNames(cl)
		fmt.Fprintf(c.out, "%s", e.State)
		for i, k := range e.OpenedBy {
			sep := ", "
			if i == 0 {
				sep = "; opened by "
			}
			fmt.Fprintf(c.out, "%s%s", sep, c.names.of(k))
		}
		fmt.Fprintln(c.out)
		return nil
	}
	var v localapi.Viewed
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "viewed %s, %d bytes, sha256 %s (%s)\n", v.MIME, v.Size, v.SHA256, v.State)
	return nil
}
