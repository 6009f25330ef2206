package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/xtsync/xtsync/pkg/engine"
)

// A users delta round is read as raw JSON, not through the SDK's models:
// Graph sends for an updated user "at least the properties that have been
// updated" (delta-query-overview), and only the raw object tells a
// property that was not sent from one set to null.

// userDeltaPage is one page of /users/delta.
type userDeltaPage struct {
	Value     []map[string]json.RawMessage `json:"value"`
	NextLink  string                       `json:"@odata.nextLink"`
	DeltaLink string                       `json:"@odata.deltaLink"`
}

// userDeltaSelect is what a users delta round tracks.
func (s *Source) userDeltaSelect() []string {
	return append([]string{"id", "accountEnabled"}, s.schema.Attributes...)
}

// userDeltaURL is the first request of a round ($deltatoken=latest: a link
// positioned at now, without the current state).
func (s *Source) userDeltaURL(ctx context.Context, latest bool) (string, error) {
	info, err := s.c.sdk.Users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: s.userDeltaSelect()},
	})
	if err != nil {
		return "", err
	}
	u, err := info.GetUri()
	if err != nil {
		return "", err
	}
	if latest {
		q := u.Query()
		q.Set("$deltatoken", "latest")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// userDeltaPage reads one page.
func (s *Source) userDeltaPage(ctx context.Context, link string) (userDeltaPage, error) {
	var page userDeltaPage
	u, err := url.Parse(link)
	if err != nil {
		return page, fmt.Errorf("users delta link: %w", err)
	}
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.GET
	info.SetUri(*u)
	info.Headers.Add("Accept", "application/json")
	raw, err := s.c.adapter.SendPrimitive(ctx, info, "[]byte", abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		if statusOf(err) == 410 {
			return page, fmt.Errorf("users delta: %w", engine.ErrDeltaExpired)
		}
		return page, wrap(err, "users delta")
	}
	b, _ := raw.([]byte)
	if err := json.Unmarshal(b, &page); err != nil {
		return page, fmt.Errorf("decode users delta page: %w", err)
	}
	return page, nil
}

// UserDelta runs one round of /users/delta from link, following nextLinks
// to the deltaLink.
func (s *Source) UserDelta(ctx context.Context, link string) (engine.UserDeltaResult, error) {
	var res engine.UserDeltaResult
	if link == "" {
		var err error
		if link, err = s.userDeltaURL(ctx, false); err != nil {
			return res, err
		}
	}
	for {
		page, err := s.userDeltaPage(ctx, link)
		if err != nil {
			return engine.UserDeltaResult{}, err
		}
		for _, obj := range page.Value {
			res.Changes = append(res.Changes, s.userChange(obj))
		}
		switch {
		case page.DeltaLink != "":
			res.Link = page.DeltaLink
			return res, nil
		case page.NextLink == "":
			return engine.UserDeltaResult{}, fmt.Errorf("users delta page has neither nextLink nor deltaLink")
		}
		link = page.NextLink
	}
}

// LatestUserDeltaLink starts a users delta at the current state: one
// request, no data read.
func (s *Source) LatestUserDeltaLink(ctx context.Context) (string, error) {
	link, err := s.userDeltaURL(ctx, true)
	if err != nil {
		return "", err
	}
	res, err := s.UserDelta(ctx, link)
	return res.Link, err
}

// userChange reads one delta object: what it carries, and nothing else.
func (s *Source) userChange(obj map[string]json.RawMessage) engine.UserChange {
	var ch engine.UserChange
	_ = json.Unmarshal(obj["id"], &ch.ID)
	ch.ID = strings.ToLower(ch.ID)
	if _, removed := obj["@removed"]; removed {
		ch.Removed = true
		return ch
	}
	if raw, ok := obj["accountEnabled"]; ok {
		var v *bool
		if json.Unmarshal(raw, &v) == nil && v != nil {
			ch.Enabled = v
		}
	}
	for _, a := range s.schema.Attributes {
		raw, ok := obj[a]
		if !ok {
			continue
		}
		var v *string
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		if ch.Attrs == nil {
			ch.Attrs = map[string]string{}
		}
		ch.Attrs[a] = str(v)
	}
	return ch
}
