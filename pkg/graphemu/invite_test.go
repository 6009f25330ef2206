package graphemu_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// invite posts an invitation and returns invitedUser.id.
func invite(t *testing.T, c *client, email, userType string) string {
	t.Helper()
	status, body, _ := c.do("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapps.microsoft.com",
		"sendInvitationMessage": false, "invitedUserType": userType,
	})
	if status != 201 {
		t.Fatalf("invite %s: %d %s", email, status, jsonText(body))
	}
	return body["invitedUser"].(map[string]any)["id"].(string)
}

// TestReinviteExistingGuest: re-inviting the address of a guest an admin
// invited a year ago (mail differs from the invited address, which is in
// otherMails) answers with that guest, creates no second user and changes
// none of the guest's properties, even with another invitedUserType. So an
// invitation's invitedUser.id alone does not prove the caller created it.
func TestReinviteExistingGuest(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, targetClient(t, em))
	guest, err := em.CreateUser(dst, graphemu.User{
		DisplayName: "Kim Akers (Northwind)", UserPrincipalName: "kim_northwind.com#EXT#@fabrikam.onmicrosoft.com",
		Mail: "kim.akers@northwind.com", OtherMails: []string{"kim@northwind.com"}, UserType: "Guest", AccountEnabled: true,
		CreationType: "Invitation", ExternalUserState: "Accepted", Created: time.Now().AddDate(-1, 0, 0).UTC().Truncate(time.Second),
		ExtensionAttributes: map[string]string{"extensionAttribute1": "admin"},
	})
	must(t, err)
	before, _ := em.User(dst, guest.ID)
	count := len(em.Users(dst))

	for _, addr := range []string{"kim@northwind.com", "KIM@northwind.com", "kim.akers@northwind.com"} {
		if id := invite(t, c, addr, "Member"); id != guest.ID {
			t.Errorf("re-invite %s: invitedUser %s, want the existing guest %s", addr, id, guest.ID)
		}
	}
	if n := len(em.Users(dst)); n != count {
		t.Errorf("%d users after re-inviting, want %d", n, count)
	}
	if after, _ := em.User(dst, guest.ID); !reflect.DeepEqual(after, before) {
		t.Errorf("re-invitation changed the guest:\n%+v\nwas\n%+v", after, before)
	}

	// A user created by an invitation is found again the same way.
	first := invite(t, c, "new@partner.com", "Guest")
	if again := invite(t, c, "new@partner.com", "Guest"); again != first {
		t.Errorf("second invitation of new@partner.com: %s, want %s", again, first)
	}
	if n := len(em.Users(dst)); n != count+1 {
		t.Errorf("%d users, want %d", n, count+1)
	}
}

// TestInviteAddressOfExistingMember pins the emulator's answer when the
// invited address is the mail of a member (not guest, not invited) user:
// that user, unchanged, and no new one. Graph's answer for this case is not
// documented (docs/emulator.md).
func TestInviteAddressOfExistingMember(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, targetClient(t, em))
	member, err := em.CreateUser(dst, graphemu.User{DisplayName: "Lee Gu", UserPrincipalName: "leeg@fabrikam.onmicrosoft.com", Mail: "lee@partner.com", AccountEnabled: true})
	must(t, err)
	before, _ := em.User(dst, member.ID)
	count := len(em.Users(dst))
	if id := invite(t, c, "lee@partner.com", "Guest"); id != member.ID {
		t.Errorf("invitedUser %s, want the member %s", id, member.ID)
	}
	if after, _ := em.User(dst, member.ID); len(em.Users(dst)) != count || !reflect.DeepEqual(after, before) {
		t.Errorf("member changed or user added: %+v (%d users, were %d)", after, len(em.Users(dst)), count)
	}
}
