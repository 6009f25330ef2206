package graphemu

import (
	"net/mail"
	"net/url"
	"strings"
)

type invitation struct {
	InvitedUserEmailAddress string `json:"invitedUserEmailAddress"`
	InvitedUserDisplayName  string `json:"invitedUserDisplayName"`
	InviteRedirectURL       string `json:"inviteRedirectUrl"`
	SendInvitationMessage   bool   `json:"sendInvitationMessage"`
	InvitedUserType         string `json:"invitedUserType"`
	ResetRedemption         bool   `json:"resetRedemption"`
	InvitedUserMessageInfo  any    `json:"invitedUserMessageInfo"`
}

// createInvitation invites an external user: it creates the #EXT# user
// (creationType Invitation, externalUserState PendingAcceptance, createdDateTime
// now), or, re-inviting, answers with the existing user: the first live user,
// in creation order, whose mail is the address or that was invited
// (creationType Invitation) with the address in otherMails. A re-invitation
// changes nothing on that user and creates no second one; Graph resends the
// invitation to a guest who has not redeemed it
// (https://learn.microsoft.com/en-us/entra/external-id/add-users-administrator,
// "Resend invitations to guest users"; DESIGN.md). A member user whose mail
// is the address is answered the same way: Graph's answer for that case is
// not documented (see docs/emulator.md).
func createInvitation(c *call) *response {
	var in invitation
	if gerr := c.decode(&in); gerr != nil {
		return errResponse(gerr)
	}
	addr, err := mail.ParseAddress(in.InvitedUserEmailAddress)
	if err != nil || addr.Address != in.InvitedUserEmailAddress || !strings.Contains(addr.Address, "@") {
		return errResponse(errf(400, "BadRequest", "The specified invitedUserEmailAddress '%s' is invalid.", in.InvitedUserEmailAddress))
	}
	if in.InviteRedirectURL == "" {
		return errResponse(errf(400, "BadRequest", "The invitation must have a inviteRedirectUrl."))
	}
	if in.InvitedUserType == "" {
		in.InvitedUserType = "Guest"
	}
	if in.InvitedUserType != "Guest" && in.InvitedUserType != "Member" {
		return errResponse(errf(400, "BadRequest", "The invitedUserType '%s' is invalid.", in.InvitedUserType))
	}
	email := strings.ToLower(addr.Address)
	if strings.HasSuffix(email, "@"+lower(c.t.Domain)) {
		return errResponse(errf(400, "BadRequest", "The invited user already exists in the directory as a member of this organization."))
	}
	var u *User
	for _, cand := range c.t.liveUsers() {
		if strings.EqualFold(cand.Mail, email) || (cand.CreationType == "Invitation" && containsFold(cand.OtherMails, email)) {
			u = cand
			break
		}
	}
	if u == nil {
		name := in.InvitedUserDisplayName
		if name == "" {
			name = email[:strings.Index(email, "@")]
		}
		u = &User{
			ID: c.e.newID(), DisplayName: name,
			UserPrincipalName: strings.ReplaceAll(email, "@", "_") + "#EXT#@" + c.t.Domain,
			Mail:              email, OtherMails: []string{email},
			UserType: in.InvitedUserType, AccountEnabled: true,
			CreationType: "Invitation", ExternalUserState: "PendingAcceptance",
			Created: c.now(),
		}
		c.t.addUser(u)
		c.e.recordUser(c.t, u.ID, uchCreated, nil)
	}
	id := c.e.newID()
	redeem := "https://login.microsoftonline.com/redeem?rd=" + url.QueryEscape("https://invitations.microsoft.com/redeem/?tenant="+c.t.ID+"&user="+id+"&ticket=emulated&ver=2.0")
	var display any
	if in.InvitedUserDisplayName != "" {
		display = in.InvitedUserDisplayName
	}
	return created(map[string]any{
		"@odata.context":          c.link("/$metadata#invitations/$entity"),
		"id":                      id,
		"inviteRedeemUrl":         redeem,
		"invitedUserDisplayName":  display,
		"invitedUserType":         in.InvitedUserType,
		"invitedUserEmailAddress": in.InvitedUserEmailAddress,
		"sendInvitationMessage":   in.SendInvitationMessage,
		"resetRedemption":         in.ResetRedemption,
		"inviteRedirectUrl":       in.InviteRedirectURL,
		"status":                  "PendingAcceptance",
		"invitedUserMessageInfo": map[string]any{
			"messageLanguage": nil, "customizedMessageBody": nil,
			"ccRecipients": []map[string]any{{"emailAddress": map[string]any{"name": nil, "address": nil}}},
		},
		"invitedUser": map[string]any{"id": u.ID},
	})
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
