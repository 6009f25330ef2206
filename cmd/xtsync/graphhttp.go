package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// graphClient is a minimal Microsoft Graph client over plain net/http: a
// client-credentials token and JSON GETs that follow @odata.nextLink. The
// demo uses it so that cmd/xtsync does not need msgraph-sdk-go.
type graphClient struct {
	hc    *http.Client
	base  string // Graph base URL, ending in /v1.0
	token string
}

// maxResponse caps a response body read by graphClient.
const maxResponse = 16 << 20

// signIn gets an app-only token for tenant from authority (the emulator's
// URL, or https://login.microsoftonline.com) with the client-credentials
// grant, and returns a client for the Graph at graphBase.
func signIn(ctx context.Context, hc *http.Client, authority, graphBase, tenant, clientID, secret string) (*graphClient, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {secret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
	endpoint := strings.TrimRight(authority, "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in to %s: %w", tenant, err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&tok); err != nil {
		return nil, fmt.Errorf("sign in to %s: HTTP %d, unreadable answer: %w", tenant, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return nil, fmt.Errorf("sign in to %s: HTTP %d %s: %s", tenant, resp.StatusCode, tok.Error, tok.Description)
	}
	return &graphClient{hc: hc, base: strings.TrimRight(graphBase, "/"), token: tok.AccessToken}, nil
}

// get GETs a Graph path (relative to the base URL) or an absolute link and
// decodes the JSON answer into v.
func (c *graphClient) get(ctx context.Context, pathOrURL string, v any) error {
	u := pathOrURL
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		u = c.base + "/" + strings.TrimLeft(u, "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ge struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &ge)
		return fmt.Errorf("GET %s: HTTP %d %s: %s", u, resp.StatusCode, ge.Error.Code, ge.Error.Message)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// list GETs every page of a Graph collection, following @odata.nextLink as
// given, and decodes each item into a T.
func list[T any](ctx context.Context, c *graphClient, path string) ([]T, error) {
	var all []T
	next := path
	for next != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.get(ctx, next, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
	}
	return all, nil
}
