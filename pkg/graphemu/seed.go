package graphemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Seed is the file format that loads tenants into the emulator (JSON).
// Group members name users by id or userPrincipalName and groups by id or
// mailNickname, defined earlier or later in the same tenant.
type Seed struct {
	Tenants []TenantSeed `json:"tenants"`
}

// TenantSeed is one tenant of a Seed.
type TenantSeed struct {
	ID          string      `json:"id"`
	Domain      string      `json:"domain"`
	DisplayName string      `json:"displayName"`
	Apps        []App       `json:"apps"`
	Users       []User      `json:"users"`
	Groups      []GroupSeed `json:"groups"`
	Faults      *Faults     `json:"faults,omitempty"`
}

// GroupSeed is a group of a TenantSeed.
type GroupSeed struct {
	ID              string   `json:"id,omitempty"`
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description,omitempty"`
	MailNickname    string   `json:"mailNickname"`
	MailEnabled     bool     `json:"mailEnabled"`
	SecurityEnabled bool     `json:"securityEnabled"`
	GroupTypes      []string `json:"groupTypes,omitempty"`
	MembershipRule  string   `json:"membershipRule,omitempty"`
	Visibility      string   `json:"visibility,omitempty"`
	Members         []string `json:"members,omitempty"`
}

// ReadSeedFile reads and strictly parses a seed file.
func ReadSeedFile(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("read seed: %w", err)
	}
	return ParseSeed(b)
}

// ParseSeed strictly parses a seed document: unknown fields are errors.
func ParseSeed(b []byte) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("parse seed: %w", err)
	}
	return s, nil
}

// Load adds the seed's tenants. It checks the whole seed first, so a bad
// seed adds nothing; errors name the offending entry.
func (e *Emulator) Load(s Seed) error {
	if err := s.check(); err != nil {
		return err
	}
	for ti, ts := range s.Tenants {
		where := fmt.Sprintf("tenants[%d]", ti)
		if err := e.AddTenant(ts.ID, ts.Domain, ts.DisplayName); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for ai, a := range ts.Apps {
			if err := e.AddApp(ts.ID, a); err != nil {
				return fmt.Errorf("%s.apps[%d]: %w", where, ai, err)
			}
		}
		byRef := map[string]string{}
		for ui, u := range ts.Users {
			stored, err := e.CreateUser(ts.ID, u)
			if err != nil {
				return fmt.Errorf("%s.users[%d]: %w", where, ui, err)
			}
			byRef[lower(stored.ID)] = stored.ID
			byRef[lower(stored.UserPrincipalName)] = stored.ID
		}
		ids := make([]string, len(ts.Groups))
		for gi, gs := range ts.Groups {
			g, err := e.CreateGroup(ts.ID, Group{
				ID: gs.ID, DisplayName: gs.DisplayName, Description: gs.Description, MailNickname: gs.MailNickname,
				MailEnabled: gs.MailEnabled, SecurityEnabled: gs.SecurityEnabled, GroupTypes: gs.GroupTypes,
				MembershipRule: gs.MembershipRule, Visibility: gs.Visibility,
			})
			if err != nil {
				return fmt.Errorf("%s.groups[%d]: %w", where, gi, err)
			}
			ids[gi] = g.ID
			byRef[lower(g.ID)] = g.ID
			byRef[lower(gs.MailNickname)] = g.ID
		}
		for gi, gs := range ts.Groups {
			for mi, m := range gs.Members {
				id, found := byRef[lower(m)]
				if !found {
					return fmt.Errorf("%s.groups[%d].members[%d]: %q names no user or group of the tenant", where, gi, mi, m)
				}
				if err := e.AddMember(ts.ID, ids[gi], id); err != nil {
					return fmt.Errorf("%s.groups[%d].members[%d]: %w", where, gi, mi, err)
				}
			}
		}
		if ts.Faults != nil {
			if err := e.SetFaults(ts.ID, *ts.Faults); err != nil {
				return fmt.Errorf("%s.faults: %w", where, err)
			}
		}
	}
	return nil
}

// check validates what can be checked without the emulator.
func (s Seed) check() error {
	if len(s.Tenants) == 0 {
		return fmt.Errorf("seed: no tenants")
	}
	for ti, t := range s.Tenants {
		where := fmt.Sprintf("tenants[%d]", ti)
		if !IsGUID(t.ID) {
			return fmt.Errorf("%s.id: %q is not a GUID", where, t.ID)
		}
		if !strings.Contains(t.Domain, ".") {
			return fmt.Errorf("%s.domain: %q is not a domain name", where, t.Domain)
		}
		for ai, a := range t.Apps {
			if !IsGUID(a.ClientID) {
				return fmt.Errorf("%s.apps[%d].clientId: %q is not a GUID", where, ai, a.ClientID)
			}
			if a.Secret == "" {
				return fmt.Errorf("%s.apps[%d].clientSecret: empty", where, ai)
			}
		}
		for ui, u := range t.Users {
			if u.ID != "" && !IsGUID(u.ID) {
				return fmt.Errorf("%s.users[%d].id: %q is not a GUID", where, ui, u.ID)
			}
			if !strings.Contains(u.UserPrincipalName, "@") {
				return fmt.Errorf("%s.users[%d].userPrincipalName: %q is not name@domain", where, ui, u.UserPrincipalName)
			}
			if err := checkExtAttrs(u.ExtensionAttributes); err != nil {
				return fmt.Errorf("%s.users[%d].%w", where, ui, err)
			}
		}
		for gi, g := range t.Groups {
			if g.ID != "" && !IsGUID(g.ID) {
				return fmt.Errorf("%s.groups[%d].id: %q is not a GUID", where, gi, g.ID)
			}
			if !validNickname(g.MailNickname) {
				return fmt.Errorf("%s.groups[%d].mailNickname: %q is not a valid mail nickname", where, gi, g.MailNickname)
			}
		}
		if t.Faults != nil {
			if err := t.Faults.Validate(); err != nil {
				return fmt.Errorf("%s.faults: %w", where, err)
			}
		}
	}
	return nil
}
