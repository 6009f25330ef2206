package graphemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// tokenLifetime is how long an access token is valid, as Entra issues them.
const tokenLifetime = time.Hour

type token struct {
	tenant  string
	app     string
	expires time.Time
}

// serveLogin answers the Entra sign-in endpoints azidentity uses:
// /{tenant}/v2.0/.well-known/openid-configuration and
// /{tenant}/oauth2/v2.0/token (client credentials).
func (e *Emulator) serveLogin(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	base := "https://" + r.Host
	switch {
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration" && r.Method == http.MethodGet:
		e.mu.Lock()
		t, found := e.tenant(parts[0])
		e.mu.Unlock()
		if !found {
			loginError(w, 400, "invalid_tenant", "AADSTS90002: Tenant '"+parts[0]+"' not found.")
			return
		}
		writePlainJSON(w, 200, map[string]any{
			"token_endpoint":                        base + "/" + t.ID + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/" + t.ID + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/" + t.ID + "/oauth2/v2.0/devicecode",
			"issuer":                                base + "/" + t.ID + "/v2.0",
			"jwks_uri":                              base + "/" + t.ID + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"tenant_region_scope":                   "EU",
		})
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && r.Method == http.MethodPost:
		e.issueToken(w, r, parts[0])
	default:
		writeError(w, e.now(), "", "", errf(404, "NotFound", "No route for %s %s.", r.Method, r.URL.Path))
	}
}

func (e *Emulator) issueToken(w http.ResponseWriter, r *http.Request, tenantRef string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		loginError(w, 400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		loginError(w, 400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, hasBasic := r.BasicAuth(); hasBasic {
		clientID, secret = u, p
	}
	scope := r.PostForm.Get("scope")
	if !strings.Contains(scope, "/.default") {
		loginError(w, 400, "invalid_scope", "AADSTS1002012: The provided value for scope "+scope+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, found := e.tenant(tenantRef)
	if !found {
		loginError(w, 400, "invalid_tenant", "AADSTS90002: Tenant '"+tenantRef+"' not found.")
		return
	}
	app, found := t.apps[clientID]
	if !found {
		loginError(w, 400, "unauthorized_client", "AADSTS700016: Application with identifier '"+clientID+"' was not found in the directory '"+t.Domain+"'.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(app.Secret), []byte(secret)) != 1 {
		loginError(w, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
		return
	}
	access := e.accessToken(t, app)
	e.tokens[access] = token{tenant: t.ID, app: app.ClientID, expires: e.now().Add(tokenLifetime)}
	writePlainJSON(w, 200, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime.Seconds()) - 1,
		"ext_expires_in": int(tokenLifetime.Seconds()) - 1,
		"access_token":   access,
	})
}

// accessToken is a new access token for app in t, shaped as Graph's: a JWT
// whose payload carries the claims an app-only token has (aud, iss, tid,
// appid, iat, exp, and roles, the application permissions granted: "roles
// ... the set of permissions ... the requesting application has been given
// permission to call", https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
// Its signature is random: the emulator knows its tokens by value. Call
// with e.mu held.
func (e *Emulator) accessToken(t *Tenant, app *App) string {
	roles := app.Permissions
	if roles == nil {
		roles = allPermissions()
	}
	now := e.now()
	claims, _ := json.Marshal(map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + t.ID + "/", "tid": t.ID,
		"appid": app.ClientID, "idtyp": "app", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(tokenLifetime).Unix(),
		"roles": roles,
	})
	var sig [32]byte
	_, _ = rand.Read(sig[:])
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc(claims) + "." + enc(sig[:])
}

// authenticate resolves a bearer token to its tenant and app.
func (e *Emulator) authenticate(authz string) (token, *graphErr) {
	if authz == "" {
		return token{}, errf(401, "InvalidAuthenticationToken", "Access token is empty.")
	}
	raw, found := strings.CutPrefix(authz, "Bearer ")
	if !found {
		return token{}, errf(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	e.mu.Lock()
	tok, found := e.tokens[raw]
	e.mu.Unlock()
	if !found {
		return token{}, errf(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	if !e.now().Before(tok.expires) {
		return token{}, errf(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	}
	return tok, nil
}

func loginError(w http.ResponseWriter, status int, code, desc string) {
	writePlainJSON(w, status, map[string]any{
		"error":             code,
		"error_description": desc,
		"error_codes":       aadstsCodes(desc),
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

func writePlainJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// aadstsCodes is Entra's error_codes for a description: the number of the
// AADSTS error it starts with ("AADSTS7000215: ..." gives [7000215]).
func aadstsCodes(desc string) []int {
	rest, found := strings.CutPrefix(desc, "AADSTS")
	n, digits := 0, 0
	for ; digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9'; digits++ {
		n = n*10 + int(rest[digits]-'0')
	}
	if !found || digits == 0 {
		return []int{}
	}
	return []int{n}
}
