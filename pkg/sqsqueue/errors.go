package sqsqueue

import (
	"errors"
	"strings"
)

// ErrBadMessage is wrapped by Decode's errors: the body is not a work
// message this package wrote (malformed, unknown version, or a bad key).
// Handle treats it as permanent.
var ErrBadMessage = errors.New("sqsqueue: bad message")

// ErrBadKey is wrapped by the errors of Enqueue and EnqueueBatch for a key
// that cannot be a message group id: empty, longer than 128 characters, or
// with a character other than ASCII letters, digits and punctuation.
var ErrBadKey = errors.New("sqsqueue: bad work key")

// ErrPermanent marks an error of process that retrying cannot fix: Handle
// drops the message (logged, passed to the WithPermanent callback) instead
// of reporting it for a retry. Wrap it: fmt.Errorf("...: %w", ErrPermanent).
var ErrPermanent = errors.New("sqsqueue: permanent failure")

// KeyError is one key that EnqueueBatch could not queue, and why.
type KeyError struct {
	Key string
	Err error
}

// Error returns the key and the reason.
func (e KeyError) Error() string { return "key " + e.Key + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e KeyError) Unwrap() error { return e.Err }

// BatchError is returned by EnqueueBatch when some keys were not queued;
// the others were.
type BatchError struct {
	Failed []KeyError
}

// Keys lists the keys that were not queued.
func (e *BatchError) Keys() []string {
	keys := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		keys[i] = f.Key
	}
	return keys
}

// Error lists the failed keys and their reasons.
func (e *BatchError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Error()
	}
	return "sqsqueue: not queued: " + strings.Join(parts, "; ")
}

// Unwrap returns the reasons, so errors.Is sees through a BatchError.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}
