package cases

import (
	"errors"
	"fmt"
)

// Code is the kind of a domain error. The web layer maps each code to one
// HTTP status in one place; the message of an Error is safe to show.
type Code string

const (
	ECONFLICT     Code = "conflict"
	EFORBIDDEN    Code = "forbidden"
	EINTERNAL     Code = "internal"
	EINVALID      Code = "invalid"
	ENOTFOUND     Code = "not_found"
	EUNAUTHORIZED Code = "unauthorized"
	// EUNAVAILABLE: the storage cannot take writes now (disk full,
	// read-only, out of connections); nothing was saved and the same
	// request may succeed later. Unavailable recognises it.
	EUNAVAILABLE Code = "unavailable"
)

// Error is a domain error with a code and a message that may be shown to the
// person who caused it. Format and Args are the message before formatting:
// the format is the message's id in the pages' catalogs, so each reader's
// language can say it (ui.domainError).
type Error struct {
	Code    Code
	Message string
	Format  string
	Args    []any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// ErrorCode returns the code of the first *Error in err's chain, else
// EUNAVAILABLE when the database refused a write for want of space or
// write access (Unavailable), else EINTERNAL. Asking here rather than
// wrapping each write means every path that writes, staff actions
// included, answers "try again later" on a full disk, not "internal".
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if Unavailable(err) {
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the showable message of err, or a generic one for
// internal errors, whose details must not reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if Unavailable(err) {
		return unavailableMessage
	}
	return "Internal error."
}
