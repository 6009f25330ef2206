package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// signIn is the client's credential with its failures told in one line
// that names the configuration key to fix, instead of azidentity's
// fifteen-line dump: Entra's AADSTS code says which key is wrong
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
type signIn struct {
	cred      azcore.TokenCredential
	section   string
	authority string // the sign-in host, for transport errors
	tenantID  string
	clientID  string
}

// GetToken gets a token, or a SignInError.
func (s *signIn) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := s.cred.GetToken(ctx, opts)
	if err != nil {
		return tok, s.explain(err)
	}
	return tok, nil
}

// SignInError is a refused sign-in: Text says what to fix; Unwrap gives
// azidentity's error with Entra's whole answer.
type SignInError struct {
	Text string
	// Code is Entra's AADSTS code (0 when the answer had none).
	Code int
	err  error
}

func (e *SignInError) Error() string { return e.Text }
func (e *SignInError) Unwrap() error { return e.err }

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

// explain turns a credential error into a SignInError naming the key.
func (s *signIn) explain(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		if text, ok := endpointText(s.section, "authority_host", s.authority, err); ok {
			return &SignInError{Text: text, err: err} // TLS, DNS, a refused connection
		}
		return err // a cancelled context: said as it is
	}
	key := func(k string) string { return configKey(s.section, k) }
	code := 0
	if m := aadsts.FindStringSubmatch(afe.Error()); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	var text string
	switch code {
	case 7000215:
		text = fmt.Sprintf("%s: the tenant refused the client secret (AADSTS7000215: wrong value, or the secret's ID given instead of its value): set %s to the value of a client secret of app %s", key("client_secret"), key("client_secret"), s.clientID)
	case 7000222:
		text = fmt.Sprintf("%s: the client secret has expired (AADSTS7000222): create a new one in the app registration (Certificates & secrets) and set %s", key("client_secret"), key("client_secret"))
	case 700016:
		text = fmt.Sprintf("%s: no application %s in tenant %s (AADSTS700016): set %s to the Application (client) ID of the app registered in that tenant, or fix %s", key("client_id"), s.clientID, s.tenantID, key("client_id"), key("tenant_id"))
	case 90002, 900023:
		text = fmt.Sprintf("%s: tenant %s was not found (AADSTS%d): set %s to the Directory (tenant) ID of the tenant (check %s too: the global cloud or a national one)", key("tenant_id"), s.tenantID, code, key("tenant_id"), key("cloud"))
	case 65001, 500011:
		text = fmt.Sprintf("%s: app %s is not consented in tenant %s (AADSTS%d): grant admin consent to its Microsoft Graph application permissions (docs/deploy.md)", key("client_id"), s.clientID, s.tenantID, code)
	case 7000112:
		text = fmt.Sprintf("%s: app %s is disabled in tenant %s (AADSTS7000112): enable its enterprise application", key("client_id"), s.clientID, s.tenantID)
	default:
		// No AADSTS code: a transport failure, which MSAL reports as text.
		if text, ok := endpointText(s.section, "authority_host", s.authority, afe); ok {
			return &SignInError{Text: text, err: err}
		}
		desc := afe.Error()
		if i := strings.Index(desc, "AADSTS"); i >= 0 {
			desc = desc[i:]
			if j := strings.IndexAny(desc, "\"\n"); j >= 0 {
				desc = desc[:j]
			}
		} else {
			desc = "no AADSTS code in the answer"
		}
		text = fmt.Sprintf("%s: sign-in to tenant %s as app %s failed (%s): check %s, %s and %s", orDefault(s.section, "tenant"), s.tenantID, s.clientID, desc, key("tenant_id"), key("client_id"), key("client_secret"))
	}
	return &SignInError{Text: text, Code: code, err: err}
}

// GrantedPermissions signs in and returns the Microsoft Graph application
// permissions the tenant granted the app: the roles claim of its access
// token ("the set of permissions ... the requesting application has been
// given permission to call", access token claims reference). It reads
// nothing from Graph.
func (c *Client) GrantedPermissions(ctx context.Context) ([]string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.endpoints.Scope}})
	if err != nil {
		return nil, err
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return nil, errors.New("msgraph: the access token is not a JWT: its permissions cannot be read")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("msgraph: read the access token's claims: %w", err)
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("msgraph: read the access token's claims: %w", err)
	}
	return claims.Roles, nil
}
