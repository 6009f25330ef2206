package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"
)

// MaxValidationToken is the longest validation token echoed, in bytes.
const MaxValidationToken = 1024

// validate answers Graph's validation request, a POST carrying
// ?validationToken=: 200, text/plain, the URL-decoded token exactly. It
// refuses (400) a malformed query and a token that is empty, longer than
// MaxValidationToken, not UTF-8 or holding control characters. It reports
// false, having written nothing, when the query holds no validationToken.
func (h *Handler) validate(w http.ResponseWriter, r *http.Request) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("query: %w", err))
		return true
	}
	if !q.Has("validationToken") {
		return false
	}
	token := q.Get("validationToken")
	if err := checkToken(token); err != nil {
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("validation token: %w", err))
		return true
	}
	h.stats.validations.Add(1)
	h.log.InfoContext(r.Context(), "webhook validation answered", "path", r.URL.Path)
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(token))
	return true
}

// checkToken accepts a non-empty UTF-8 token of at most MaxValidationToken
// bytes without control characters.
func checkToken(token string) error {
	switch {
	case token == "":
		return errors.New("empty")
	case len(token) > MaxValidationToken:
		return fmt.Errorf("%d bytes, want at most %d", len(token), MaxValidationToken)
	case !utf8.ValidString(token):
		return errors.New("not UTF-8")
	}
	for _, c := range token {
		if unicode.IsControl(c) {
			return fmt.Errorf("control character %U", c)
		}
	}
	return nil
}
