package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// adminTokenEnv names the environment variable of the admin token: when
// set, serve's admin listener (and xtsync console) require it on every
// request, and the CLI sends it; a listener on a non-loopback address
// needs it.
const adminTokenEnv = "XTSYNC_ADMIN_TOKEN"

// adminCookie is the cookie /login sets to the admin token.
const adminCookie = "xtsync_admin"

// csrfField is the hidden form field of the console's CSRF token.
const csrfField = "csrf"

// randomToken is 32 random bytes in hex.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// isLoopbackHost reports whether host (without a port) is a loopback
// name or address.
func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// checkAdminListen refuses an admin listener (key: the setting or flag
// that names it) on a non-loopback address without an admin token,
// naming the variable and the fix.
func checkAdminListen(key, addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q is not host:port: %w", key, addr, err)
	}
	if !isLoopbackHost(host) && token == "" {
		return &usageError{fmt.Errorf("%s %s is not a loopback address, and %s is not set: set %s in the environment to a long random secret (openssl rand -hex 32) that every admin request must then carry, or listen on 127.0.0.1", key, addr, adminTokenEnv, adminTokenEnv)}
	}
	return nil
}

// sameSecret compares a secret in constant time.
func sameSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// requestToken is the admin token a request carries: its bearer token,
// else its console cookie.
func requestToken(r *http.Request) string {
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(h)
	}
	if c, err := r.Cookie(adminCookie); err == nil {
		return c.Value
	}
	return ""
}

// consolePath reports whether a path is the console's own (its forms
// post there, guarded by their CSRF token instead of the CLI's header).
func consolePath(p string) bool {
	return p == "/login" || strings.HasPrefix(p, "/console/")
}

// adminOnly guards the admin listener. Without a token (loopback only) it
// lets through requests to a loopback Host only (no DNS rebinding); with
// one, only the requests carrying it (bearer token or the login cookie;
// /login and the style sheet excepted). For anything but GET, the CLI's
// routes need the operator header (no cross-site request from a browser),
// the console's forms their CSRF token and a same-origin request (checked
// by their handlers).
func adminOnly(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if !isLoopbackHost(host) {
				http.Error(w, "admin requests must address a loopback host", http.StatusForbidden)
				return
			}
		} else if r.URL.Path != "/login" && r.URL.Path != "/console/style.css" && r.URL.Path != "/favicon.ico" && !sameSecret(requestToken(r), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="xtsync admin"`)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`<!doctype html><title>Sign in needed</title><p>Admin requests need the admin token (` + adminTokenEnv + `): <a href="/login">sign in</a>, or send it as a bearer token.</p>`))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !consolePath(r.URL.Path) && r.Header.Get(operatorHeader) == "" {
			http.Error(w, "admin changes need the "+operatorHeader+" header (use the xtsync CLI)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withCSRF lets through a console form's post only with this process's
// CSRF token.
func (c *console) withCSRF(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !sameSecret(r.PostFormValue(csrfField), c.csrf) {
			http.Error(w, "the form's CSRF token is missing or stale: reload the page and submit it again", http.StatusForbidden)
			return
		}
		next(w, r)
	})
}

// loginRoutes adds /login, where a browser trades the admin token for a
// cookie; without a token there is nothing to sign in to.
func (c *console) loginRoutes(mux *http.ServeMux, token string) {
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, http.StatusOK, "login", page{Title: "Sign in", Nav: "/login", Data: token != ""})
	})
	mux.Handle("POST /login", http.NewCrossOriginProtection().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if token == "" {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if !sameSecret(r.PostFormValue("token"), token) {
			c.log.Warn("console sign-in refused", "remote", r.RemoteAddr)
			c.render(w, http.StatusUnauthorized, "login", page{Title: "Sign in", Nav: "/login", Error: "that is not the admin token", Data: true})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})))
}
