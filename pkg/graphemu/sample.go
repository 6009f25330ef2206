package graphemu

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// The sample tenants' fixed identities: a source company (Contoso) with
// groups to mirror, and an empty target company (Fabrikam).
const (
	SampleSourceTenant   = "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31"
	SampleSourceDomain   = "contoso.onmicrosoft.com"
	SampleSourceClientID = "0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20"
	SampleSourceSecret   = "contoso-sync-app-secret"
	SampleTargetTenant   = "c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42"
	SampleTargetDomain   = "fabrikam.onmicrosoft.com"
	SampleTargetClientID = "9a3f6d1c-2e7b-4b8a-b5c4-1e8d7a2f6c53"
	SampleTargetSecret   = "fabrikam-sync-app-secret"
)

// sampleID derives a stable GUID from a name.
func sampleID(name string) string {
	h1, h2 := fnv.New64a(), fnv.New64()
	h1.Write([]byte(name))
	h2.Write([]byte(name))
	a, b := h1.Sum64(), h2.Sum64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, 0x8000|uint16(b>>48)&0x3fff, b&0xffffffffffff)
}

var sampleNames = []string{
	"Adele Vance", "Alex Wilber", "Allan Deyoung", "Bianca Pisani", "Brian Johnson", "Cameron White",
	"Christie Cline", "Conf Room", "Debra Berger", "Delia Dennis", "Diego Siciliani", "Emily Braun",
	"Enrico Cattaneo", "Gerhart Moller", "Grady Archie", "Henrietta Mueller", "Irvin Sayers", "Isaiah Langer",
	"Johanna Lorenz", "Joni Sherman", "Jordan Miller", "Lee Gu", "Lidia Holloway", "Lynne Robbins",
	"Mallory Cortez", "Megan Bowen", "Miriam Graham", "Nestor Wilke", "Patti Fernandez", "Pradeep Gupta",
	"Raul Razo", "Rigoberto Ramos", "Sam Taylor", "Sanjay Shah", "Shreya Vora", "Tomas Rossi",
	"Una Peters", "Vivian Stone", "Wanda Hughes", "Xavier Brooks", "Yolanda Reyes", "Zoe Lambert",
	"Aaron Patel", "Beatrice Okafor", "Carlos Mendes", "Dana Kim", "Elias Novak", "Fatima Rahman",
	"Gavin Price", "Hana Sato", "Ivan Petrov", "Jasmine Cole", "Kofi Mensah", "Laura Chen",
	"Marco Bianchi", "Nina Larsen", "Oscar Duval", "Priya Nair",
}

// SampleSeed is the built-in seed: Contoso (source) with 58 members, one
// guest and eleven groups of every kind a sync meets (security, Microsoft
// 365, dynamic, distribution list, nested, with a guest), and an empty
// Fabrikam (target). Each has one app registration.
func SampleSeed() Seed {
	src := TenantSeed{
		ID: SampleSourceTenant, Domain: SampleSourceDomain, DisplayName: "Contoso",
		Apps: []App{{ClientID: SampleSourceClientID, Secret: SampleSourceSecret, DisplayName: "xtsync (source)"}},
	}
	var upns []string
	for _, n := range sampleNames {
		parts := strings.Fields(n)
		nick := strings.ToLower(parts[0] + parts[1][:1])
		upn := nick + "@" + SampleSourceDomain
		upns = append(upns, upn)
		src.Users = append(src.Users, User{
			ID: sampleID("contoso/" + nick), DisplayName: n, GivenName: parts[0], Surname: parts[1],
			UserPrincipalName: upn, Mail: nick + "@contoso.com", UserType: "Member", AccountEnabled: true,
		})
	}
	guest := User{
		ID: sampleID("contoso/guest/kim"), DisplayName: "Kim Akers (Northwind)", UserPrincipalName: "kim_northwind.com#EXT#@" + SampleSourceDomain,
		Mail: "kim@northwind.com", OtherMails: []string{"kim@northwind.com"}, UserType: "Guest", AccountEnabled: true,
		CreationType: "Invitation", ExternalUserState: "Accepted",
	}
	src.Users = append(src.Users, guest)
	pick := func(from, to int) []string { return append([]string(nil), upns[from:to]...) }
	sec := func(name, nick, desc string, members []string) GroupSeed {
		return GroupSeed{ID: sampleID("contoso/group/" + nick), DisplayName: name, Description: desc, MailNickname: nick, SecurityEnabled: true, Members: members}
	}
	m365 := func(name, nick, desc string, members []string) GroupSeed {
		return GroupSeed{ID: sampleID("contoso/group/" + nick), DisplayName: name, Description: desc, MailNickname: nick, MailEnabled: true, GroupTypes: []string{"Unified"}, Visibility: "Private", Members: members}
	}
	src.Groups = []GroupSeed{
		sec("Engineering", "engineering", "All engineers", pick(0, 16)),
		sec("Sales", "sales", "Sales organisation", pick(16, 26)),
		sec("Finance", "finance", "Finance and accounting", pick(26, 32)),
		m365("All Company", "allcompany", "This is the default group for everyone in the network", pick(0, 20)),
		m365("Marketing Team", "marketing", "Campaigns and brand", pick(32, 40)),
		{ID: sampleID("contoso/group/remote"), DisplayName: "Remote Workers", Description: "Rule-based: everyone working remotely", MailNickname: "remoteworkers", SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"}, MembershipRule: `(user.officeLocation -eq "Remote")`, Members: pick(40, 48)},
		{ID: sampleID("contoso/group/announce"), DisplayName: "Announcements", Description: "Company-wide distribution list", MailNickname: "announcements", MailEnabled: true, Members: pick(0, 10)},
		sec("SRE", "sre", "Site reliability engineers", pick(48, 52)),
		sec("Platform Team", "platform", "Platform engineering (includes SRE)", append(pick(52, 55), "sre")),
		sec("Partner Project", "partnerproject", "Joint project with Northwind; has a guest member", append(pick(4, 9), guest.UserPrincipalName)),
		sec("Executives", "executives", "Leadership team", pick(55, 58)),
	}
	dst := TenantSeed{
		ID: SampleTargetTenant, Domain: SampleTargetDomain, DisplayName: "Fabrikam",
		Apps: []App{{ClientID: SampleTargetClientID, Secret: SampleTargetSecret, DisplayName: "xtsync (target)"}},
	}
	return Seed{Tenants: []TenantSeed{src, dst}}
}
