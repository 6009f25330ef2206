package sqsqueue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Version is the version of the message body that Encode writes and Decode
// reads.
const Version = 1

// maxKeyLen is SQS's limit on a message group id, which a key is.
const maxKeyLen = 128

// message is the body of a work message.
type message struct {
	V   int    `json:"v"`
	Key string `json:"key"`
}

// Encode returns the message body for a work key: {"v":1,"key":"..."}.
func Encode(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	b, err := json.Marshal(message{V: Version, Key: key})
	if err != nil {
		return "", fmt.Errorf("sqsqueue: encode %q: %w", key, err)
	}
	return string(b), nil
}

// Decode returns the work key of a message body that Encode wrote. A body
// that is not one JSON object, has a version other than Version, or lacks
// a valid key gives an error wrapping ErrBadMessage. Unknown fields are
// ignored.
func Decode(body string) (key string, err error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	var m struct {
		V   *int    `json:"v"`
		Key *string `json:"key"`
	}
	if err := dec.Decode(&m); err != nil {
		return "", fmt.Errorf("%w: not JSON: %v", ErrBadMessage, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("%w: data after the JSON object", ErrBadMessage)
	}
	switch {
	case m.V == nil:
		return "", fmt.Errorf("%w: no version", ErrBadMessage)
	case *m.V != Version:
		return "", fmt.Errorf("%w: version %d, want %d", ErrBadMessage, *m.V, Version)
	case m.Key == nil:
		return "", fmt.Errorf("%w: no key", ErrBadMessage)
	}
	if err := checkKey(*m.Key); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return *m.Key, nil
}

// checkKey reports whether key can be a message group id (1 to 128
// characters, each an ASCII letter, digit or punctuation mark); the error
// wraps ErrBadKey.
func checkKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("%w: %q: length %d, want 1 to %d", ErrBadKey, key, len(key), maxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < '!' || c > '~' {
			return fmt.Errorf("%w: %q: character %q at %d", ErrBadKey, key, c, i)
		}
	}
	return nil
}
