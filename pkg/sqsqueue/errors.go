package sqsqueue

import "errors"

// ErrBadMessage is wrapped by Decode's errors: the body is not a work
// message this package wrote (malformed, unknown version, or a bad key).
// Handle treats it as permanent.
var ErrBadMessage = errors.New("sqsqueue: bad message")

// ErrBadKey is wrapped by Enqueue's error for a key that cannot be a
// message group id: empty, longer than 128 characters, or with a character
// other than ASCII letters, digits and punctuation.
var ErrBadKey = errors.New("sqsqueue: bad work key")
