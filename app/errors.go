package app

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every boundary translates its own failures into these,
// so callers can test with errors.Is whatever layer the error came from.
var (
	ErrNotFound      = errors.New("not found")
	ErrAmbiguous     = errors.New("ambiguous")
	ErrInvalid       = errors.New("invalid")
	ErrTooLarge      = errors.New("too large")
	ErrNotMember     = errors.New("not a member of this conversation")
	ErrNotAdmin      = errors.New("only group admins can do that")
	ErrNotAuthor     = errors.New("only the author can do that")
	ErrBlocked       = errors.New("blocked")
	ErrRefused       = errors.New("refused")
	ErrTooLate       = errors.New("too late")
	ErrFork          = errors.New("fork: two events with the same sequence number")
	ErrMissing       = errors.New("earlier events are missing")
	ErrDuplicate     = errors.New("already stored")
	ErrBadEvent      = errors.New("malformed event")
	ErrBadSignature  = errors.New("bad signature")
	ErrNoIdentity    = errors.New("no identity")
	ErrLocked        = errors.New("locked")
	ErrRateLimited   = errors.New("rate limited")
	ErrUnknownSender = errors.New("unknown sender")
	ErrUnreachable   = errors.New("unreachable")
)

// UserError is an error whose message is written for people: safe to show
// in the GUI or on the CLI as it is. Other errors are logged and shown as a
// generic failure.
type UserError struct {
	Msg string
	Err error // the sentinel it stands for, for errors.Is
}

func (e *UserError) Error() string { return e.Msg }
func (e *UserError) Unwrap() error { return e.Err }

// Userf makes a UserError that matches sentinel with errors.Is.
func Userf(sentinel error, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// Plain returns the words to show a person for err: its own message when it
// is a UserError, otherwise a plain sentence for a known sentinel, otherwise
// a generic one.
func Plain(err error) string {
	if err == nil {
		return ""
	}
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Msg
	}
	for _, s := range []struct {
		err error
		msg string
	}{
		{ErrNotFound, "Not found."},
		{ErrNotMember, "You are not a member of this conversation."},
		{ErrNotAdmin, "Only group admins can do that."},
		{ErrNotAuthor, "You can only change your own messages."},
		{ErrBlocked, "This person is blocked."},
		{ErrRefused, "The other side refused the message."},
		{ErrTooLarge, "That is too large."},
		{ErrRateLimited, "Too many requests; try again later."},
		{ErrLocked, "Kite is locked: enter your passphrase."},
		{ErrNoIdentity, "No profile yet: run 'kite init' first."},
	} {
		if errors.Is(err, s.err) {
			return s.msg
		}
	}
	return "Something went wrong: " + err.Error()
}
