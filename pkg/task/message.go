package task

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Version is the version of the message body that Encode writes and Decode
// reads.
const Version = 1

// maxKeyLen is the longest key a task may have: SQS's limit on a message
// group id, which the key is on the SQS queue.
const maxKeyLen = 128

// ErrBadMessage is wrapped by Decode's errors: the body is not a task
// message that Encode wrote (malformed, another version, or a key that is
// not a valid task). It wraps ErrPermanent, so a queue drops such a message
// rather than retrying it.
var ErrBadMessage = fmt.Errorf("bad task message: %w", ErrPermanent)

// message is the body of a task message.
type message struct {
	V   int    `json:"v"`
	Key string `json:"key"`
}

// Check reports whether t is a task that can travel on a queue: its kind
// is known, it has an argument exactly when its kind takes one, Parse of
// its key gives t back, and the key is 1 to 128 characters, each an
// ASCII letter, digit or punctuation mark ('!' to '~', what SQS allows in
// a message group id). The error wraps ErrPermanent.
func (t Task) Check() error {
	key := t.Key()
	if len(key) > maxKeyLen {
		return fmt.Errorf("task %.40q...: key of %d characters, want at most %d: %w", key, len(key), maxKeyLen, ErrPermanent)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < '!' || c > '~' {
			return fmt.Errorf("task %q: character %q at %d of the key, want '!' to '~': %w", key, c, i, ErrPermanent)
		}
	}
	p, err := Parse(key)
	if err != nil {
		return err
	}
	if p != t {
		return fmt.Errorf("task %+v: %s takes no argument: %w", t, t.Kind, ErrPermanent)
	}
	return nil
}

// Encode returns the message body that carries t on a queue,
// {"v":1,"key":"<t.Key()>"}, after checking t (Check): Decode of the body
// gives t back.
func (t Task) Encode() (string, error) {
	if err := t.Check(); err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	b, err := json.Marshal(message{V: Version, Key: t.Key()})
	if err != nil {
		return "", fmt.Errorf("encode task %q: %w", t.Key(), err)
	}
	return string(b), nil
}

// Decode returns the task of a message body that Encode wrote. A body that
// is not one JSON object, has a version other than Version, lacks a key,
// or whose key is not a valid task (Parse, Check) gives an error wrapping
// ErrBadMessage (and so ErrPermanent). Unknown fields are ignored.
func Decode(body string) (Task, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	var m struct {
		V   *int    `json:"v"`
		Key *string `json:"key"`
	}
	if err := dec.Decode(&m); err != nil {
		return Task{}, fmt.Errorf("%w: not JSON: %v", ErrBadMessage, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Task{}, fmt.Errorf("%w: data after the JSON object", ErrBadMessage)
	}
	switch {
	case m.V == nil:
		return Task{}, fmt.Errorf("%w: no version", ErrBadMessage)
	case *m.V != Version:
		return Task{}, fmt.Errorf("%w: version %d, want %d", ErrBadMessage, *m.V, Version)
	case m.Key == nil:
		return Task{}, fmt.Errorf("%w: no key", ErrBadMessage)
	}
	t, err := Parse(*m.Key)
	if err == nil {
		err = t.Check()
	}
	if err != nil {
		return Task{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return t, nil
}
