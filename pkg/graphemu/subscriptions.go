package graphemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Graph's limits for group and user subscriptions
// (https://learn.microsoft.com/en-us/graph/change-notifications-overview,
// "Subscription lifetime": user, group, other directory resources 41,760
// minutes; the user row of the supported resources: 100 subscriptions per
// app and tenant).
const (
	// MaxGroupSubscriptionLifetime is the longest a group subscription may
	// run before it must be renewed.
	MaxGroupSubscriptionLifetime = 41760 * time.Minute
	// MaxUserSubscriptionLifetime is the same limit for user subscriptions.
	MaxUserSubscriptionLifetime = 41760 * time.Minute
	// MaxSubscriptionsPerApp is the quota of subscriptions per app per
	// tenant, group and user subscriptions together.
	MaxSubscriptionsPerApp = 100
	validationTimeout      = 10 * time.Second
	maxClientState         = 128
)

const subTimeFormat = "2006-01-02T15:04:05.0000000Z"

func renderSub(s *Subscription) map[string]any {
	var lifecycle any
	if s.LifecycleNotificationURL != "" {
		lifecycle = s.LifecycleNotificationURL
	}
	var clientState any
	if s.ClientState != "" {
		clientState = s.ClientState
	}
	return map[string]any{
		"id":                        s.ID,
		"resource":                  s.Resource,
		"applicationId":             s.ApplicationID,
		"changeType":                s.ChangeType,
		"clientState":               clientState,
		"notificationUrl":           s.NotificationURL,
		"lifecycleNotificationUrl":  lifecycle,
		"expirationDateTime":        s.ExpirationDateTime.UTC().Format(subTimeFormat),
		"creatorId":                 s.CreatorID,
		"latestSupportedTlsVersion": s.LatestSupportedTLSVersion,
		"includeResourceData":       false,
		"encryptionCertificate":     nil,
		"encryptionCertificateId":   nil,
		"notificationQueryOptions":  nil,
		"notificationUrlAppId":      nil,
		"notificationContentType":   "application/json",
	}
}

// Subscription collections.
const (
	collGroups = "groups"
	collUsers  = "users"
)

// subTarget is what a subscription watches: a collection (collGroups or
// collUsers) and one object of it ("" for all).
type subTarget struct{ coll, id string }

// parseSubResource parses a subscription resource: "/groups" (every
// group), "/groups/{id}", "/users" (every user of the tenant) or
// "/users/{id}"; the leading slash is optional ("users"), the collection
// name case-insensitive. Graph's resource paths for these:
// https://learn.microsoft.com/en-us/graph/change-notifications-overview
// (group and user rows).
func parseSubResource(resource string) (subTarget, bool) {
	parts := strings.Split(strings.Trim(resource, "/"), "/")
	coll := lower(parts[0])
	if (coll != collGroups && coll != collUsers) || len(parts) > 2 {
		return subTarget{}, false
	}
	if len(parts) == 1 {
		return subTarget{coll: coll}, true
	}
	return subTarget{coll: coll, id: lower(parts[1])}, IsGUID(parts[1])
}

// maxLifetime is the longest lifetime of a subscription to resource.
func maxLifetime(resource string) time.Duration {
	if t, _ := parseSubResource(resource); t.coll == collUsers {
		return MaxUserSubscriptionLifetime
	}
	return MaxGroupSubscriptionLifetime
}

func (c *call) checkNotifyURL(field, raw string) *graphErr {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errf(400, "ValidationError", "The %s '%s' is not a valid URL.", field, raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" && c.e.opts.AllowHTTPNotifications && isLoopback(u.Hostname()) {
		return nil
	}
	return errf(400, "ValidationError", "The %s must be an HTTPS URL: '%s'.", field, raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type subBody struct {
	ChangeType                *string `json:"changeType"`
	NotificationURL           *string `json:"notificationUrl"`
	LifecycleNotificationURL  *string `json:"lifecycleNotificationUrl"`
	Resource                  *string `json:"resource"`
	ExpirationDateTime        *string `json:"expirationDateTime"`
	ClientState               *string `json:"clientState"`
	LatestSupportedTLSVersion *string `json:"latestSupportedTlsVersion"`
	IncludeResourceData       *bool   `json:"includeResourceData"`
}

func (c *call) expiry(raw *string, resource string) (time.Time, *graphErr) {
	if raw == nil {
		return time.Time{}, errf(400, "ValidationError", "expirationDateTime is a required property for subscription creation.")
	}
	exp, err := time.Parse(time.RFC3339Nano, *raw)
	if err != nil {
		return time.Time{}, errf(400, "ValidationError", "The expirationDateTime '%s' is not a valid date and time.", *raw)
	}
	now := c.now()
	if !exp.After(now) {
		return time.Time{}, errf(400, "ValidationError", "Subscription expiration date time cannot be in the past.")
	}
	if limit := maxLifetime(resource); exp.Sub(now) > limit {
		return time.Time{}, errf(400, "ValidationError", "Subscription expiration can only be %d minutes in the future.", int(limit.Minutes()))
	}
	return exp, nil
}

// createSubscription runs outside the emulator lock: it calls the
// subscriber's endpoints for the validation handshake.
func createSubscription(c *call) *response {
	var b subBody
	if gerr := c.decode(&b); gerr != nil {
		return errResponse(gerr)
	}
	if b.Resource == nil || b.ChangeType == nil || b.NotificationURL == nil {
		return errResponse(errf(400, "ValidationError", "resource, changeType and notificationUrl are required properties for subscription creation."))
	}
	target, valid := parseSubResource(*b.Resource)
	if !valid {
		return errResponse(errf(400, "ValidationError", "Resource '%s' is not supported for subscriptions by this emulator; use '/groups', '/groups/{id}', '/users' or '/users/{id}'.", *b.Resource))
	}
	// "User and group change notifications support updated and deleted
	// changeType" (https://learn.microsoft.com/en-us/graph/api/resources/subscription).
	for _, ct := range strings.Split(*b.ChangeType, ",") {
		if ct = strings.TrimSpace(ct); ct != "updated" && ct != "deleted" {
			return errResponse(errf(400, "ValidationError", "ChangeType '%s' is not supported for resource '%s'; %s support 'updated,deleted'.", ct, *b.Resource, target.coll))
		}
	}
	if b.IncludeResourceData != nil && *b.IncludeResourceData {
		return errResponse(errf(400, "ValidationError", "Rich notifications (includeResourceData) are not supported for %s.", target.coll))
	}
	if b.ClientState != nil && len(*b.ClientState) > maxClientState {
		return errResponse(errf(400, "ValidationError", "clientState must be at most %d characters.", maxClientState))
	}
	if gerr := c.checkNotifyURL("notificationUrl", *b.NotificationURL); gerr != nil {
		return errResponse(gerr)
	}
	if b.LifecycleNotificationURL != nil {
		if gerr := c.checkNotifyURL("lifecycleNotificationUrl", *b.LifecycleNotificationURL); gerr != nil {
			return errResponse(gerr)
		}
	}
	c.e.mu.Lock()
	exp, gerr := c.expiry(b.ExpirationDateTime, *b.Resource)
	n := 0
	for _, s := range c.t.subs {
		if s.ApplicationID == c.app {
			n++
		}
	}
	c.e.mu.Unlock()
	if gerr != nil {
		return errResponse(gerr)
	}
	if n >= MaxSubscriptionsPerApp {
		return errResponse(errf(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: The subscription quota of %d per application per tenant is reached.]", MaxSubscriptionsPerApp))
	}
	if err := c.e.validateEndpoint(*b.NotificationURL); err != nil {
		return errResponse(errf(400, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. %v", err))
	}
	if b.LifecycleNotificationURL != nil {
		if err := c.e.validateEndpoint(*b.LifecycleNotificationURL); err != nil {
			return errResponse(errf(400, "ValidationError", "Subscription validation request failed. Lifecycle notification endpoint must respond with 200 OK to validation request. %v", err))
		}
	}
	s := &Subscription{
		Resource: *b.Resource, ChangeType: *b.ChangeType, NotificationURL: *b.NotificationURL,
		ExpirationDateTime: exp, ApplicationID: c.app, LatestSupportedTLSVersion: "v1_2",
	}
	if b.ClientState != nil {
		s.ClientState = *b.ClientState
	}
	if b.LifecycleNotificationURL != nil {
		s.LifecycleNotificationURL = *b.LifecycleNotificationURL
	}
	if b.LatestSupportedTLSVersion != nil {
		s.LatestSupportedTLSVersion = *b.LatestSupportedTLSVersion
	}
	c.e.mu.Lock()
	s.ID = c.e.newID()
	s.CreatorID = c.app
	c.t.subs[s.ID] = s
	c.t.subOrder = append(c.t.subOrder, s.ID)
	body := renderSub(s)
	c.e.mu.Unlock()
	body["@odata.context"] = c.link("/$metadata#subscriptions/$entity")
	return created(body)
}

// validateEndpoint runs Graph's validation handshake: POST
// url?validationToken=T (text/plain) must answer 200 with exactly T within
// 10 s.
func (e *Emulator) validateEndpoint(raw string) error {
	e.mu.Lock()
	tok := "Validation: Testing client application reachability for subscription Request-Id: " + e.newID()
	e.mu.Unlock()
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad url: %w", err)
	}
	q := u.Query()
	q.Set("validationToken", tok)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(e.ctx, validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := e.opts.NotifyClient.Do(req)
	if err != nil {
		return fmt.Errorf("validation request: %w", err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("endpoint answered %d", resp.StatusCode)
	}
	if string(got) != tok {
		return fmt.Errorf("endpoint did not echo the validation token")
	}
	return nil
}

func (c *call) lookupSub(id string) (*Subscription, *graphErr) {
	s, found := c.t.subs[id]
	if !found || s.ApplicationID != c.app {
		return nil, errf(404, "ResourceNotFound", "The object was not found.")
	}
	return s, nil
}

func listSubscriptions(c *call) *response {
	var items []map[string]any
	for _, id := range c.t.subOrder {
		if s, found := c.t.subs[id]; found && s.ApplicationID == c.app {
			items = append(items, renderSub(s))
		}
	}
	return c.page(items, "subscriptions", "/subscriptions")
}

func getSubscription(c *call) *response {
	s, gerr := c.lookupSub(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	body := renderSub(s)
	body["@odata.context"] = c.link("/$metadata#subscriptions/$entity")
	return ok(body)
}

// patchSubscription renews a subscription (expirationDateTime).
func patchSubscription(c *call) *response {
	s, gerr := c.lookupSub(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	var raw map[string]json.RawMessage
	if gerr := c.decode(&raw); gerr != nil {
		return errResponse(gerr)
	}
	for k := range raw {
		if k != "expirationDateTime" {
			return errResponse(errf(400, "ValidationError", "Only expirationDateTime can be updated; got '%s'.", k))
		}
	}
	var v string
	if err := json.Unmarshal(raw["expirationDateTime"], &v); err != nil {
		return errResponse(errf(400, "ValidationError", "The expirationDateTime is not a valid date and time."))
	}
	exp, gerr := c.expiry(&v, s.Resource)
	if gerr != nil {
		return errResponse(gerr)
	}
	s.ExpirationDateTime = exp
	s.reauthSent = false
	body := renderSub(s)
	body["@odata.context"] = c.link("/$metadata#subscriptions/$entity")
	return ok(body)
}

func deleteSubscription(c *call) *response {
	s, gerr := c.lookupSub(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	c.t.dropSub(s.ID)
	return noContent()
}

func (t *Tenant) dropSub(id string) {
	delete(t.subs, id)
	t.subOrder = slices.DeleteFunc(t.subOrder, func(v string) bool { return v == id })
}
