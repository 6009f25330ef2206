package msgraph

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.Target = (*Target)(nil)

// Graph's write limits.
const (
	maxBind  = 20 // members@odata.bind references per write
	maxBatch = 20 // requests per $batch
)

// Target reads and writes the target tenant for the engine.
type Target struct {
	c *Client
	// schema says what is read of users; link is its link attribute.
	schema UserSchema
	link   string
	sleep  func(context.Context, time.Duration) error
	// fresh are the waits for an object created moments ago to replicate
	// (Graph answers 404 for a while).
	fresh []time.Duration
}

// NewTarget wraps a signed-in client of the target tenant; the schema names
// the mapped attributes and the users' extension attribute that carries
// xtsync's link marker.
func NewTarget(c *Client, schema UserSchema) *Target {
	return &Target{c: c, schema: schema, link: schema.link(), sleep: sleepCtx, fresh: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}}
}

// replicated runs a write, repeating it while Graph answers 404: an object
// created moments ago may not have replicated yet.
func (t *Target) replicated(ctx context.Context, write func() error) error {
	err := write()
	for _, d := range t.fresh {
		if !errors.Is(err, engine.ErrNotFound) && statusOf(err) != 404 {
			return err
		}
		if serr := t.sleep(ctx, d); serr != nil {
			return err
		}
		err = write()
	}
	return err
}

// Groups reads groups by id (15 per request).
func (t *Target) Groups(ctx context.Context, ids []string) (map[string]engine.Group, error) {
	return t.c.groups(ctx, ids)
}

// GroupsByNickname reads the groups whose mailNickname is one of nicks, 15
// per request (group mailNickname supports eq and in, resources/group).
func (t *Target) GroupsByNickname(ctx context.Context, nicks []string) ([]engine.Group, error) {
	var out []engine.Group
	for _, part := range chunks(nicks, maxInFilter) {
		gs, err := t.c.listGroups(ctx, inFilter("mailNickname", part))
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

// Mirrors reads every group whose mailNickname starts with the mirror
// prefix, 999 per page (mailNickname supports startsWith).
func (t *Target) Mirrors(ctx context.Context) ([]engine.Group, error) {
	return t.c.listGroups(ctx, "startswith(mailNickname,'"+engine.MirrorPrefix+"')")
}

// Members lists a group's direct members, 999 per page. A group created
// moments ago may answer 404 until it has replicated: that is waited out.
func (t *Target) Members(ctx context.Context, groupID string) ([]engine.Member, error) {
	var out []engine.Member
	err := t.replicated(ctx, func() error {
		var err error
		out, err = t.c.members(ctx, groupID, false, t.schema, true)
		return err
	})
	return out, err
}

func (t *Target) bindURLs(ids []string) ([]string, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		if !engine.IsGUID(id) {
			return nil, fmt.Errorf("user id %q is not a GUID", id)
		}
		out[i] = t.c.endpoints.Graph + "/v1.0/directoryObjects/" + id
	}
	return out, nil
}

// CreateGroup creates a security group (securityEnabled, not mail-enabled,
// no groupTypes) binding up to 20 members.
func (t *Target) CreateGroup(ctx context.Context, spec engine.GroupSpec) (engine.Group, error) {
	if len(spec.Members) > maxBind {
		return engine.Group{}, fmt.Errorf("create group %s: %d members to bind, at most %d", spec.MailNickname, len(spec.Members), maxBind)
	}
	binds, err := t.bindURLs(spec.Members)
	if err != nil {
		return engine.Group{}, err
	}
	g := models.NewGroup()
	g.SetDisplayName(&spec.DisplayName)
	g.SetDescription(&spec.Description)
	g.SetMailNickname(&spec.MailNickname)
	f, tr := false, true
	g.SetMailEnabled(&f)
	g.SetSecurityEnabled(&tr)
	g.SetGroupTypes([]string{})
	if len(binds) > 0 {
		g.SetAdditionalData(map[string]any{"members@odata.bind": binds})
	}
	var created models.Groupable
	err = t.replicated(ctx, func() error {
		var err error
		created, err = t.c.sdk.Groups().Post(ctx, g, nil)
		return err
	})
	if err != nil {
		return engine.Group{}, wrap(err, "create group %s", spec.MailNickname)
	}
	return toGroup(created), nil
}

// UpdateGroup sets a group's displayName and description.
func (t *Target) UpdateGroup(ctx context.Context, id string, spec engine.GroupSpec) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("group id %q is not a GUID", id)
	}
	g := models.NewGroup()
	g.SetDisplayName(&spec.DisplayName)
	g.SetDescription(&spec.Description)
	return wrap(t.replicated(ctx, func() error {
		_, err := t.c.sdk.Groups().ByGroupId(id).Patch(ctx, g, nil)
		return err
	}), "update group %s", id)
}

// DeleteGroup soft-deletes a group.
func (t *Target) DeleteGroup(ctx context.Context, id string) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("group id %q is not a GUID", id)
	}
	return wrap(t.c.sdk.Groups().ByGroupId(id).Delete(ctx, nil), "delete group %s", id)
}

// RestoreGroup restores a group from deleted items.
func (t *Target) RestoreGroup(ctx context.Context, id string) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("group id %q is not a GUID", id)
	}
	_, err := t.c.sdk.Directory().DeletedItems().ByDirectoryObjectId(id).Restore().Post(ctx, nil)
	return wrap(err, "restore group %s", id)
}

// AddMembers adds users 20 per PATCH (members@odata.bind). Graph refuses a
// whole PATCH when one user is already a member, or unknown: such a chunk is
// split until the culprits are found; existing members count as added,
// unknown ones are returned.
func (t *Target) AddMembers(ctx context.Context, groupID string, userIDs []string) (map[string]error, error) {
	if !engine.IsGUID(groupID) {
		return nil, fmt.Errorf("group id %q is not a GUID", groupID)
	}
	failed := map[string]error{}
	for _, part := range chunks(userIDs, maxBind) {
		if err := t.addChunk(ctx, groupID, part, failed, true); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

func (t *Target) addChunk(ctx context.Context, groupID string, ids []string, failed map[string]error, top bool) error {
	binds, err := t.bindURLs(ids)
	if err != nil {
		return err
	}
	patch := func() error {
		g := models.NewGroup()
		g.SetAdditionalData(map[string]any{"members@odata.bind": binds})
		_, err := t.c.sdk.Groups().ByGroupId(groupID).Patch(ctx, g, nil)
		return err
	}
	if top {
		err = t.replicated(ctx, patch)
	} else {
		err = patch()
	}
	switch {
	case err == nil:
		return nil
	case isAlreadyMember(err) && len(ids) == 1:
		return nil
	case statusOf(err) == 404 && len(ids) == 1:
		failed[ids[0]] = wrap(err, "add %s to %s", ids[0], groupID)
		return nil
	case isAlreadyMember(err) || statusOf(err) == 404:
		half := len(ids) / 2
		if err := t.addChunk(ctx, groupID, ids[:half], failed, false); err != nil {
			return err
		}
		return t.addChunk(ctx, groupID, ids[half:], failed, false)
	}
	return wrap(err, "add members to %s", groupID)
}

// RemoveMembers removes users with DELETE .../members/{id}/$ref, 20 per
// $batch. Graph throttles batch items one by one: a throttled item is
// retried after its Retry-After; a 404 means already not a member.
func (t *Target) RemoveMembers(ctx context.Context, groupID string, userIDs []string) (map[string]error, error) {
	if !engine.IsGUID(groupID) {
		return nil, fmt.Errorf("group id %q is not a GUID", groupID)
	}
	for _, id := range userIDs {
		if !engine.IsGUID(id) {
			return nil, fmt.Errorf("user id %q is not a GUID", id)
		}
	}
	failed := map[string]error{}
	for _, part := range chunks(userIDs, maxBatch) {
		pending := part
		for attempt := 0; len(pending) > 0; attempt++ {
			retry, wait, err := t.removeBatch(ctx, groupID, pending, failed)
			if err != nil {
				return failed, err
			}
			if len(retry) > 0 && attempt >= 8 {
				for _, id := range retry {
					failed[id] = fmt.Errorf("remove %s from %s: still throttled after %d attempts", id, groupID, attempt+1)
				}
				break
			}
			if len(retry) > 0 {
				if err := t.sleep(ctx, wait); err != nil {
					return failed, err
				}
			}
			pending = retry
		}
	}
	return failed, nil
}

// removeBatch sends one $batch of removals; it returns the ids to retry and
// how long to wait first.
func (t *Target) removeBatch(ctx context.Context, groupID string, ids []string, failed map[string]error) ([]string, time.Duration, error) {
	batch := msgraphcore.NewBatchRequest(t.c.adapter)
	byStep := map[string]string{}
	for _, id := range ids {
		info, err := t.c.sdk.Groups().ByGroupId(groupID).Members().ByDirectoryObjectId(id).Ref().ToDeleteRequestInformation(ctx, nil)
		if err != nil {
			return nil, 0, err
		}
		item, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			return nil, 0, err
		}
		byStep[str(item.GetId())] = id
	}
	resp, err := batch.Send(ctx, t.c.adapter)
	if err != nil {
		return nil, 0, wrap(err, "remove members from %s", groupID)
	}
	var retry []string
	var wait time.Duration
	for _, item := range resp.GetResponses() {
		id := byStep[str(item.GetId())]
		status := 0
		if s := item.GetStatus(); s != nil {
			status = int(*s)
		}
		switch {
		case status >= 200 && status < 300, status == 404:
		case status == 429 || status == 503 || status == 504:
			retry = append(retry, id)
			wait = max(wait, itemRetryAfter(item.GetHeaders()))
		default:
			failed[id] = fmt.Errorf("remove %s from %s: graph %d%s", id, groupID, status, itemError(item.GetBody()))
		}
	}
	return retry, wait, nil
}

// itemError is a $batch item's error code and message (" code: message"),
// "" when its body carries none.
func itemError(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	text := func(v any) string {
		switch s := v.(type) {
		case string:
			return s
		case *string: // the SDK's parse node gives pointers
			if s != nil {
				return *s
			}
		}
		return ""
	}
	code, msg := text(e["code"]), text(e["message"])
	if code == "" && msg == "" {
		return ""
	}
	return " " + strings.TrimSpace(code+": "+msg)
}

// itemRetryAfter reads a batch item's Retry-After (fractional seconds), one
// second when absent.
func itemRetryAfter(h map[string]string) time.Duration {
	for k, v := range h {
		if strings.EqualFold(k, "Retry-After") {
			if secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && secs >= 0 {
				return time.Duration(secs * float64(time.Second))
			}
		}
	}
	return time.Second
}

// Invite creates an external user without sending an email.
func (t *Target) Invite(ctx context.Context, inv engine.Invitation) (engine.User, error) {
	in := models.NewInvitation()
	in.SetInvitedUserEmailAddress(&inv.Email)
	if inv.DisplayName != "" {
		in.SetInvitedUserDisplayName(&inv.DisplayName)
	}
	redirect := inv.RedirectURL
	if redirect == "" {
		redirect = "https://myapps.microsoft.com"
	}
	in.SetInviteRedirectUrl(&redirect)
	send := false
	in.SetSendInvitationMessage(&send)
	in.SetInvitedUserType(&inv.UserType)
	out, err := t.c.sdk.Invitations().Post(ctx, in, nil)
	if err != nil {
		return engine.User{}, wrap(err, "invite %s", inv.Email)
	}
	u := out.GetInvitedUser()
	if u == nil || u.GetId() == nil {
		return engine.User{}, errors.New("invite " + inv.Email + ": answer has no invitedUser id")
	}
	return engine.User{ID: strings.ToLower(*u.GetId()), Mail: inv.Email, DisplayName: inv.DisplayName, UserType: inv.UserType, CreationType: "Invitation", AccountEnabled: true}, nil
}

// DeleteUser soft-deletes a user.
func (t *Target) DeleteUser(ctx context.Context, id string) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("user id %q is not a GUID", id)
	}
	return wrap(t.c.sdk.Users().ByUserId(id).Delete(ctx, nil), "delete user %s", id)
}

// SetAccountEnabled enables or disables a user.
func (t *Target) SetAccountEnabled(ctx context.Context, id string, enabled bool) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("user id %q is not a GUID", id)
	}
	u := models.NewUser()
	u.SetAccountEnabled(&enabled)
	return wrap(t.replicated(ctx, func() error {
		_, err := t.c.sdk.Users().ByUserId(id).Patch(ctx, u, nil)
		return err
	}), "set accountEnabled=%t on %s", enabled, id)
}
