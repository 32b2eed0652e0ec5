package pluginapi

import "errors"

// permanentError marks an error that retrying cannot fix.
type permanentError struct {
	err error
}

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix, such as an
// invalid email address: the host dead-letters the message at once, even
// when retry_on_error is set. Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent or wraps ErrInvalidBody.
func IsPermanent(err error) bool {
	var permanent *permanentError
	return errors.As(err, &permanent) || errors.Is(err, ErrInvalidBody)
}
