package main

import "errors"

func (c *cli) gui(args []string) error {
	var g globals
	fs := flagSet("kite", &g)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return errors.New("the desktop app is not in this build yet: use the command line ('kite help')")
}
