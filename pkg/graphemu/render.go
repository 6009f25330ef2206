package graphemu

import (
	"strings"
	"time"
)

// graphTime formats t as Graph does for createdDateTime and the like.
func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// userDefault is the property set Graph v1.0 returns for a user when the
// request has no $select.
var userDefault = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

// userProps is every user property the emulator knows, for project to pick
// from. Not defaults, so only on $select
// (https://learn.microsoft.com/en-us/graph/api/resources/user):
// accountEnabled, companyName, createdDateTime, creationType, department,
// otherMails, userType, externalUserState, onPremisesSyncEnabled (true for
// a synced user, null for a cloud-only one) and
// onPremisesExtensionAttributes (all fifteen keys, null where unset;
// resources/onpremisesextensionattributes). officeLocation is a default.
func userProps(u *User) map[string]any {
	var deleted, synced any
	if !u.Deleted.IsZero() {
		deleted = graphTime(u.Deleted)
	}
	if u.OnPremisesSyncEnabled {
		synced = true
	}
	return map[string]any{
		"id":                u.ID,
		"businessPhones":    []string{},
		"displayName":       u.DisplayName,
		"givenName":         nullable(u.GivenName),
		"surname":           nullable(u.Surname),
		"jobTitle":          nullable(u.JobTitle),
		"department":        nullable(u.Department),
		"companyName":       nullable(u.CompanyName),
		"mail":              nullable(u.Mail),
		"mobilePhone":       nil,
		"officeLocation":    nullable(u.OfficeLocation),
		"preferredLanguage": nil,
		"userPrincipalName": u.UserPrincipalName,
		"otherMails":        strs(u.OtherMails),
		"userType":          u.UserType,
		"accountEnabled":    u.AccountEnabled,
		"creationType":      nullable(u.CreationType),
		"externalUserState": nullable(u.ExternalUserState),
		"createdDateTime":   graphTime(u.Created),
		"deletedDateTime":   deleted,

		"onPremisesSyncEnabled":         synced,
		"onPremisesExtensionAttributes": renderExtAttrs(u.ExtensionAttributes),
	}
}

// groupDefault is the property set Graph v1.0 returns for a group without
// $select (the shape of the documented create response).
var groupDefault = []string{"id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "theme", "visibility", "onPremisesProvisioningErrors"}

func groupProps(g *Group) map[string]any {
	var deleted, ruleState any
	if !g.Deleted.IsZero() {
		deleted = graphTime(g.Deleted)
	}
	if g.IsDynamic() {
		ruleState = "On"
	}
	proxy := []string{}
	if g.Mail != "" {
		proxy = []string{"SMTP:" + g.Mail}
	}
	return map[string]any{
		"id":                            g.ID,
		"deletedDateTime":               deleted,
		"classification":                nil,
		"createdDateTime":               graphTime(g.Created),
		"description":                   nullable(g.Description),
		"displayName":                   g.DisplayName,
		"expirationDateTime":            nil,
		"groupTypes":                    strs(g.GroupTypes),
		"isAssignableToRole":            nil,
		"mail":                          nullable(g.Mail),
		"mailEnabled":                   g.MailEnabled,
		"mailNickname":                  g.MailNickname,
		"membershipRule":                nullable(g.MembershipRule),
		"membershipRuleProcessingState": ruleState,
		"onPremisesDomainName":          nil,
		"onPremisesLastSyncDateTime":    nil,
		"onPremisesNetBiosName":         nil,
		"onPremisesSamAccountName":      nil,
		"onPremisesSecurityIdentifier":  nil,
		"onPremisesSyncEnabled":         nil,
		"preferredDataLocation":         nil,
		"preferredLanguage":             nil,
		"proxyAddresses":                proxy,
		"renewedDateTime":               graphTime(g.Created),
		"resourceBehaviorOptions":       []string{},
		"resourceProvisioningOptions":   []string{},
		"securityEnabled":               g.SecurityEnabled,
		"securityIdentifier":            "S-1-12-1-" + sidFromID(g.ID),
		"theme":                         nil,
		"visibility":                    nullable(g.Visibility),
		"onPremisesProvisioningErrors":  []string{},
	}
}

func sidFromID(id string) string {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return strings.Join([]string{itoa(h % 999999999), itoa(h / 7 % 999999999), itoa(h / 13 % 999999999), itoa(h / 17 % 999999999)}, "-")
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b [10]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// project keeps the selected properties of all (or the defaults when sel is
// empty). Unknown selected names are left out, as Graph omits them.
func project(all map[string]any, sel, defaults []string) map[string]any {
	if len(sel) == 0 {
		sel = defaults
	}
	out := make(map[string]any, len(sel)+1)
	for _, k := range sel {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func renderUser(u *User, sel []string) map[string]any {
	return project(userProps(u), sel, userDefault)
}

func renderGroup(g *Group, sel []string) map[string]any {
	return project(groupProps(g), sel, groupDefault)
}

// renderObject renders a directory object in a collection of directory
// objects (members), with its @odata.type.
func (t *Tenant) renderObject(id string, sel []string) map[string]any {
	if u, ok := t.users[id]; ok {
		m := project(userProps(u), sel, userDefault)
		m["@odata.type"] = "#microsoft.graph.user"
		return m
	}
	if g, ok := t.groups[id]; ok {
		m := project(groupProps(g), sel, groupDefault)
		m["@odata.type"] = "#microsoft.graph.group"
		return m
	}
	return map[string]any{"@odata.type": "#microsoft.graph.directoryObject", "id": id}
}
