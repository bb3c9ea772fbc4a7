package app_test

import (
	"errors"

	"kite/app"
)

func asRefused(err error, re **app.RefusedError) bool { return errors.As(err, re) }

func asInvalid(err error) bool { return errors.Is(err, app.ErrInvalid) }
