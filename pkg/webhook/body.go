package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// errTooManyItems is what decodeItems returns when the "value" array holds
// more than the item limit.
var errTooManyItems = errors.New("too many items")

// checkHeaders refuses, before admission and before any read, what the
// headers alone show to be wrong: 415 for a content type other than
// application/json or any content encoding, 413 for a declared length above
// the body limit. It reports false when it answered.
func (h *Handler) checkHeaders(w http.ResponseWriter, r *http.Request) bool {
	if err := checkContentType(r.Header); err != nil {
		h.refuse(w, r, http.StatusUnsupportedMediaType, err)
		return false
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("content length %d above %d", r.ContentLength, h.maxBody))
		return false
	}
	return true
}

// readItems decodes a notification body as it is read, item by item, so
// that the raw body is never held whole: only the decoder's window (the
// largest single value) and the decoded items are. It answers the request
// itself and reports false when the body is refused: 413 above the body
// limit or above the item limit (then nothing of the body is acted on), 400
// for malformed JSON or a missing or empty "value" array. Items that are not
// objects or do not fit the schema are kept, marked malformed, for the
// caller to reject one by one.
func (h *Handler) readItems(w http.ResponseWriter, r *http.Request) ([]item, bool) {
	items, err := decodeItems(http.MaxBytesReader(w, r.Body, h.maxBody), h.maxItems)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("body above %d bytes", h.maxBody))
		return nil, false
	}
	switch {
	case errors.Is(err, errTooManyItems):
		h.stats.tooManyItems.Add(1)
		h.refuseWith(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%s: more than %d items in one body", http.StatusText(http.StatusRequestEntityTooLarge), h.maxItems), err)
		return nil, false
	case err != nil:
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("decode body: %w", err))
		return nil, false
	case len(items) == 0:
		h.refuse(w, r, http.StatusBadRequest, errors.New("decode body: no \"value\" items"))
		return nil, false
	}
	return items, true
}

// decodeItems streams a notification body, {"value":[...]}, and returns its
// items, at most maxItems of them (errTooManyItems beyond). Other top-level
// fields (Graph adds some, such as validationTokens) are checked for syntax
// and skipped without being kept. It follows encoding/json's Unmarshal of
// the envelope: the "value" key matches in any case, the last one wins,
// and trailing data after the object is an error. It fails on malformed
// JSON, on a read error and on a "value" that is not an array.
func decodeItems(rd io.Reader, maxItems int) ([]item, error) {
	dec := json.NewDecoder(rd)
	if err := expectDelim(dec, '{', "body"); err != nil {
		return nil, err
	}
	var items []item
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		key, _ := tok.(string) // an object's keys are strings: Token checks
		if !strings.EqualFold(key, "value") {
			if err := dec.Decode(&skipValue{}); err != nil {
				return nil, fmt.Errorf("field: %w", err)
			}
			continue
		}
		if items, err = decodeArray(dec, items[:0], maxItems); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data")
		}
		return nil, fmt.Errorf("after body: %w", err)
	}
	return items, nil
}

// decodeArray decodes the "value" array into items, one element at a time.
// An element that does not fit the item schema (not an object, a field of
// the wrong type) is kept as a malformed item; null decodes as {} does.
func decodeArray(dec *json.Decoder, items []item, maxItems int) ([]item, error) {
	if err := expectDelim(dec, '[', `"value"`); err != nil {
		return nil, err
	}
	for dec.More() {
		if len(items) == maxItems {
			return nil, fmt.Errorf("%w: more than %d", errTooManyItems, maxItems)
		}
		var it item
		err := dec.Decode(&it)
		if _, typeErr := errors.AsType[*json.UnmarshalTypeError](err); typeErr {
			// The element was read whole; the decoder goes on after it.
			it, err = item{malformed: true}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", len(items), err)
		}
		items = append(items, it)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, fmt.Errorf(`"value": %w`, err)
	}
	return items, nil
}

// expectDelim reads the next token and fails unless it is delim.
func expectDelim(dec *json.Decoder, delim json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != delim {
		kind := "an object"
		if delim == '[' {
			kind = "an array"
		}
		return fmt.Errorf("%s is not %s", what, kind)
	}
	return nil
}

// checkContentType accepts application/json, with parameters, and no
// content encoding (Graph sends none; anything else would be misread).
func checkContentType(hd http.Header) error {
	if enc := hd.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return fmt.Errorf("content encoding %.32q not supported", enc)
	}
	ct := hd.Get("Content-Type")
	if ct == "" {
		return errors.New("no content type")
	}
	if strings.EqualFold(ct, "application/json") || strings.EqualFold(ct, "application/json; charset=utf-8") {
		return nil // what Graph sends, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	if mt != "application/json" {
		return fmt.Errorf("content type %.64q, want application/json", mt)
	}
	return nil
}
