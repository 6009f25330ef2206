package graphemu

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// serveControl answers the control API under /_emulator/ (see
// docs/emulator.md): seed tenants, act as an admin, read state and request
// counts, set faults. It has no authentication: the emulator listens on
// loopback only.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	p := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_emulator/"), "/"), "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		controlError(w, http.StatusRequestEntityTooLarge, "request body too large or unreadable")
		return
	}
	decode := func(v any) bool {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			controlError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
			return false
		}
		return true
	}
	reply := func(v any, err error) {
		switch {
		case errors.Is(err, ErrNotFound):
			controlError(w, http.StatusNotFound, err.Error())
		case err != nil:
			controlError(w, http.StatusBadRequest, err.Error())
		case v == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writePlainJSON(w, http.StatusOK, v)
		}
	}
	m := r.Method
	route := m + " " + strings.Join(shape(p), "/")
	switch route {
	case "GET tenants":
		type row struct {
			ID     string `json:"id"`
			Domain string `json:"domain"`
			Name   string `json:"displayName"`
			Users  int    `json:"users"`
			Groups int    `json:"groups"`
		}
		var out []row
		for _, id := range e.TenantIDs() {
			_ = e.withTenant(id, func(t *Tenant) error {
				out = append(out, row{t.ID, t.Domain, t.DisplayName, len(t.users), len(t.groups)})
				return nil
			})
		}
		reply(out, nil)
	case "POST seed":
		var s Seed
		if decode(&s) {
			reply(nil, e.Load(s))
		}
	case "GET stats":
		reply(map[string]any{"delivery": e.DeliveryStats(), "unrouted": e.Unrouted()}, nil)
	case "GET tenants/*":
		reply(e.dump(p[1]))
	case "GET tenants/*/faults":
		reply(e.Faults(p[1]))
	case "PUT tenants/*/faults":
		var f Faults
		if decode(&f) {
			reply(nil, e.SetFaults(p[1], f))
		}
	case "GET tenants/*/stats":
		if _, found := e.tenantExists(p[1]); !found {
			reply(nil, errTenant(p[1]))
			return
		}
		s := e.Stats(p[1])
		reply(map[string]any{"routes": s.Routes, "throttled": s.Throttled, "serverErrors": s.ServerErrors, "ops": s.Ops(), "writes": s.Writes()}, nil)
	case "DELETE tenants/*/stats":
		reply(nil, e.ResetStats(p[1]))
	case "POST tenants/*/users":
		var u User
		if decode(&u) {
			reply(e.CreateUser(p[1], u))
		}
	case "PATCH tenants/*/users/*":
		var up UserUpdate
		if decode(&up) {
			reply(nil, e.UpdateUser(p[1], p[3], up))
		}
	case "DELETE tenants/*/users/*":
		reply(nil, e.DeleteUser(p[1], p[3]))
	case "POST tenants/*/groups":
		var g Group
		if decode(&g) {
			reply(e.CreateGroup(p[1], g))
		}
	case "PATCH tenants/*/groups/*":
		var patch struct {
			DisplayName  *string `json:"displayName"`
			Description  *string `json:"description"`
			MailNickname *string `json:"mailNickname"`
		}
		if decode(&patch) {
			reply(nil, e.UpdateGroup(p[1], p[3], func(g *Group) {
				if patch.DisplayName != nil {
					g.DisplayName = *patch.DisplayName
				}
				if patch.Description != nil {
					g.Description = *patch.Description
				}
				if patch.MailNickname != nil {
					g.MailNickname = *patch.MailNickname
				}
			}))
		}
	case "DELETE tenants/*/groups/*":
		reply(nil, e.DeleteGroup(p[1], p[3]))
	case "POST tenants/*/groups/*/members":
		var ref struct {
			ID string `json:"id"`
		}
		if decode(&ref) {
			reply(nil, e.AddMember(p[1], p[3], ref.ID))
		}
	case "DELETE tenants/*/groups/*/members/*":
		reply(nil, e.RemoveMember(p[1], p[3], p[5]))
	case "POST tenants/*/throttle":
		var th struct {
			Count      int      `json:"count"`
			RetryAfter Duration `json:"retryAfter"`
		}
		if decode(&th) {
			reply(nil, e.ThrottleNext(p[1], th.Count, th.RetryAfter.D()))
		}
	case "POST tenants/*/delta/expire":
		reply(nil, e.ExpireDeltaTokens(p[1]))
	case "POST tenants/*/subscriptions/*/lifecycle":
		var ev struct {
			Event string `json:"event"`
		}
		if decode(&ev) {
			reply(nil, e.FireLifecycle(p[1], p[3], ev.Event))
		}
	default:
		controlError(w, http.StatusNotFound, "no control route "+m+" /_emulator/"+strings.Join(p, "/"))
	}
}

// shape replaces the variable segments of a control path with "*".
func shape(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		if i%2 == 1 && i > 0 && (p[0] == "tenants") {
			out[i] = "*"
			continue
		}
		out[i] = s
	}
	return out
}

func (e *Emulator) tenantExists(id string) (*Tenant, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenant(id)
}

// TenantState is a tenant's whole state as the control API reports it.
type TenantState struct {
	ID            string         `json:"id"`
	Domain        string         `json:"domain"`
	DisplayName   string         `json:"displayName"`
	Users         []User         `json:"users"`
	Groups        []Group        `json:"groups"`
	DeletedGroups []Group        `json:"deletedGroups"`
	Subscriptions []Subscription `json:"subscriptions"`
	Faults        Faults         `json:"faults"`
}

func (e *Emulator) dump(id string) (TenantState, error) {
	t, found := e.tenantExists(id)
	if !found {
		return TenantState{}, errTenant(id)
	}
	f, _ := e.Faults(id)
	return TenantState{
		ID: t.ID, Domain: t.Domain, DisplayName: t.DisplayName,
		Users: e.Users(id), Groups: e.Groups(id), DeletedGroups: e.DeletedGroups(id),
		Subscriptions: e.Subscriptions(id), Faults: f,
	}, nil
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writePlainJSON(w, status, map[string]string{"error": msg})
}
