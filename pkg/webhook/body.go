package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// readItems reads and decodes a notification body. It answers the request
// itself and reports false when the body is refused: 415 for a content type
// other than application/json or any content encoding, 413 above the body
// limit, 400 for malformed JSON or a missing or empty "value" array. Items
// that are not objects or do not fit the schema are kept, marked malformed,
// for the caller to reject one by one.
func (h *Handler) readItems(w http.ResponseWriter, r *http.Request) ([]item, bool) {
	if err := checkContentType(r.Header); err != nil {
		h.refuse(w, r, http.StatusUnsupportedMediaType, err)
		return nil, false
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("content length %d above %d", r.ContentLength, h.maxBody))
		return nil, false
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // ReadFrom wants MinRead spare at EOF
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("body above %d bytes", h.maxBody))
			return nil, false
		}
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return nil, false
	}
	items, err := decodeItems(buf.Bytes())
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("decode body: %w", err))
		return nil, false
	}
	if len(items) == 0 {
		h.refuse(w, r, http.StatusBadRequest, errors.New("decode body: no \"value\" items"))
		return nil, false
	}
	return items, true
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
