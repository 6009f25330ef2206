package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// crashScope is every sample group (the distribution list included: the
// engine skips it).
var crashScope = []string{"engineering", "sales", "finance", "allcompany", "marketing", "remoteworkers", "announcements", "sre", "platform", "partnerproject", "executives"}

// crashChild is `xtsync` running as a process of its own: the test binary
// re-executed with childEnv=1 (see TestMain), so that it can be SIGKILLed
// while the emulator, in the test process, watches.
type crashChild struct {
	name     string
	cmd      *exec.Cmd
	out, err syncBuffer
	done     chan struct{}
	started  time.Time
}

func startCrashChild(t *testing.T, name string, args ...string) *crashChild {
	t.Helper()
	c := &crashChild{name: name, done: make(chan struct{}), started: time.Now()}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(os.Environ(), childEnv+"=1")
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.err
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { // never leave a child running
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *crashChild) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// log writes the child's output to the test log once it has ended.
func (c *crashChild) log(t *testing.T) {
	t.Helper()
	<-c.done
	t.Logf("%s: %s after %s\n--- stdout\n%s--- stderr\n%s", c.name, c.cmd.ProcessState, time.Since(c.started).Round(time.Millisecond), c.out.String(), c.err.String())
}

// wait waits for the child to end on its own and returns its exit code.
func (c *crashChild) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	waitfor.WaitFor(t, d, c.name+" to finish", c.exited)
	c.log(t)
	return c.cmd.ProcessState.ExitCode()
}

// killAt SIGKILLs the child as soon as the emulator has received n more
// requests of route in tenant than base. The child must still be running
// then: a run that ends before its kill point proves nothing.
func (c *crashChild) killAt(t *testing.T, em *graphemu.Emulator, tenant, route string, base, n int) {
	t.Helper()
	reached := func() bool { return em.Stats(tenant).Routes[route]-base >= n }
	waitfor.WaitFor(t, 30*time.Second, fmt.Sprintf("%s: request %d of %s", c.name, n, route), func() bool {
		if c.exited() && !reached() {
			c.log(t)
			t.Fatalf("%s ended before its kill point (request %d of %s)", c.name, n, route)
		}
		return reached()
	})
	if c.exited() {
		c.log(t)
		t.Fatalf("%s ended before it could be killed at request %d of %s", c.name, n, route)
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("%s: kill: %v", c.name, err)
	}
	c.log(t)
	if st := c.cmd.ProcessState; st.ExitCode() != -1 {
		t.Fatalf("%s was not killed: %s", c.name, st)
	}
}

// crashExpect is what a converged target must hold, computed from the
// source: the scoped syncable groups, each with its direct non-guest user
// members (what xtsync syncs; nested groups and guests are skipped), and
// the source users they provision.
type crashExpect struct {
	groups  []graphemu.Group
	members map[string][]string      // source group id -> source user ids
	users   map[string]graphemu.User // provisioned source users by id
}

func expectFromSource(t *testing.T, env *reconcileEnv, scope []string) crashExpect {
	t.Helper()
	src := graphemu.SampleSourceTenant
	x := crashExpect{members: map[string][]string{}, users: map[string]graphemu.User{}}
	for _, nick := range scope {
		g, ok := env.em.Group(src, env.nick[nick])
		if !ok {
			t.Fatalf("no source group %s", nick)
		}
		if g.IsDistributionList() {
			continue
		}
		x.groups = append(x.groups, g)
		for _, m := range g.Members {
			u, isUser := env.em.User(src, m)
			if !isUser || u.UserType == "Guest" {
				continue
			}
			x.members[g.ID] = append(x.members[g.ID], u.ID)
			x.users[u.ID] = u
		}
	}
	return x
}

// checkOneMirrorEach checks that the target holds exactly one group per
// scoped syncable source group, carrying its mirror nickname, and no other
// group; it returns the mirrors by source group id.
func checkOneMirrorEach(t *testing.T, em *graphemu.Emulator, x crashExpect) map[string]graphemu.Group {
	t.Helper()
	byNick := map[string][]graphemu.Group{}
	groups := em.Groups(graphemu.SampleTargetTenant)
	for _, g := range groups {
		byNick[strings.ToLower(g.MailNickname)] = append(byNick[strings.ToLower(g.MailNickname)], g)
	}
	mirrors := map[string]graphemu.Group{}
	for _, sg := range x.groups {
		ms := byNick[engine.TargetNickname(sg.ID)]
		if len(ms) != 1 {
			var ids []string
			for _, g := range ms {
				ids = append(ids, g.ID)
			}
			t.Errorf("source group %s (%s): %d target groups with nickname %s %v, want 1", sg.DisplayName, sg.ID, len(ms), engine.TargetNickname(sg.ID), ids)
			continue
		}
		mirrors[sg.ID] = ms[0]
	}
	if len(groups) != len(x.groups) {
		t.Errorf("the target holds %d groups, want %d (one per scoped syncable group, nothing else)", len(groups), len(x.groups))
	}
	return mirrors
}

// checkOneUserEach checks that the target holds exactly one user per
// provisioned source user (by mail or otherMails), each carrying its link
// value, and no other user (the sample's target starts empty); it returns
// the target users by source user id.
func checkOneUserEach(t *testing.T, em *graphemu.Emulator, x crashExpect) map[string]graphemu.User {
	t.Helper()
	users := em.Users(graphemu.SampleTargetTenant)
	out := map[string]graphemu.User{}
	for _, su := range x.users {
		var found []graphemu.User
		for _, u := range users {
			if strings.EqualFold(u.Mail, su.Mail) || slices.ContainsFunc(u.OtherMails, func(o string) bool { return strings.EqualFold(o, su.Mail) }) {
				found = append(found, u)
			}
		}
		if len(found) != 1 {
			t.Errorf("source user %s (%s): %d target users hold its mail, want 1", su.Mail, su.ID, len(found))
			continue
		}
		u := found[0]
		out[su.ID] = u
		link := engine.LinkValue(graphemu.SampleSourceTenant, su.ID)
		if got := u.ExtensionAttributes[engine.DefaultLinkAttribute]; got != link {
			t.Errorf("target user %s (%s) carries %s %q, want its link %q", u.ID, u.Mail, engine.DefaultLinkAttribute, got, link)
		}
	}
	if len(users) != len(x.users) {
		t.Errorf("the target holds %d users, want %d (one per provisioned source user, nothing else)", len(users), len(x.users))
	}
	return out
}

// writeActions are the audited actions that write to the target, so whose
// "ok" entry must follow a "started" one. link-user writes only when the
// link is missing: its entry then says the user was created by an
// interrupted run; one that finds the link in place writes nothing.
var writeActions = map[string]bool{
	"invite-user": true, "link-user": true, "create-group": true, "update-group": true, "restore-group": true,
	"add-members": true, "remove-members": true, "enable-user": true, "disable-user": true,
	"delete-group": true, "delete-user": true,
}

const linkInPlace = "link marker on the target user"

// checkAudit checks that the audit log accounts for everything the runs
// applied in the target, and that every write's outcome follows its start.
func checkAudit(t *testing.T, em *graphemu.Emulator, entries []engine.AuditEntry, mirrors map[string]graphemu.Group, users map[string]graphemu.User) {
	t.Helper()
	has := func(f func(e engine.AuditEntry) bool) bool { return slices.ContainsFunc(entries, f) }
	// Every write's ok entry follows a started entry of its own.
	type key struct{ run, action, group, source string }
	open := map[key]int{}
	for i, e := range entries {
		k := key{e.Run, e.Action, e.Group, e.Source}
		switch {
		case e.Outcome == engine.OutcomeStarted:
			open[k]++
		case e.Outcome == engine.OutcomeOK && writeActions[e.Action] && !(e.Action == "link-user" && e.Detail == linkInPlace):
			if open[k] == 0 {
				t.Errorf("audit entry %d %+v: ok without a started entry written before it", i, e)
				continue
			}
			open[k]--
		}
	}
	// Every mirror: created (started, or ok with its id) or adopted.
	for gid, g := range mirrors {
		if !has(func(e engine.AuditEntry) bool {
			return e.Group == gid && ((e.Action == "create-group" && (e.Outcome == engine.OutcomeStarted || e.Target == g.ID)) ||
				(e.Action == "adopt-group" && e.Outcome == engine.OutcomeOK && e.Target == g.ID))
		}) {
			t.Errorf("mirror %s of %s: no create-group or adopt-group audit entry", g.ID, gid)
		}
	}
	// Every deleted target group (a duplicate): a delete-group entry.
	for _, g := range em.DeletedGroups(graphemu.SampleTargetTenant) {
		t.Logf("deleted target group %s %s", g.ID, g.MailNickname)
		if !has(func(e engine.AuditEntry) bool { return e.Action == "delete-group" && e.Target == g.ID }) {
			t.Errorf("deleted target group %s (%s): no delete-group audit entry", g.ID, g.MailNickname)
		}
	}
	// Every target user was created by an invitation (the target started
	// empty): its start was audited before it was sent, and the run that
	// completed it (linked and mapped) audited that.
	sourceOf := map[string]string{}
	for sid, u := range users {
		sourceOf[u.ID] = sid
		if !has(func(e engine.AuditEntry) bool {
			return e.Action == "invite-user" && e.Source == sid && e.Outcome == engine.OutcomeStarted
		}) {
			t.Errorf("target user %s (%s): no invite-user started entry", u.ID, u.Mail)
		}
		if !has(func(e engine.AuditEntry) bool {
			return (e.Action == "invite-user" || e.Action == "link-user") && e.Source == sid && e.Target == u.ID && e.Outcome == engine.OutcomeOK
		}) {
			t.Errorf("target user %s (%s): no invite-user or link-user ok entry naming it", u.ID, u.Mail)
		}
	}
	// Every member of a mirror: an add-members entry (bound at creation
	// or added).
	for gid, g := range mirrors {
		for _, tid := range g.Members {
			sid := sourceOf[tid]
			if !has(func(e engine.AuditEntry) bool {
				return e.Action == "add-members" && e.Group == gid && e.Source == sid && (e.Outcome == engine.OutcomeOK || e.Outcome == engine.OutcomeStarted)
			}) {
				t.Errorf("member %s (source %s) of mirror %s: no add-members entry", tid, sid, g.ID)
			}
		}
	}
}

// logCrashState logs what a killed run left: the target's users (and how
// many carry a link) and groups, and the writes the audit shows it started
// with no outcome (the ones the kill interrupted).
func logCrashState(t *testing.T, env *reconcileEnv) {
	t.Helper()
	linked := 0
	users := env.em.Users(graphemu.SampleTargetTenant)
	for _, u := range users {
		if engine.IsLink(u.ExtensionAttributes[engine.DefaultLinkAttribute]) {
			linked++
		}
	}
	type key struct{ run, action, group, source string }
	open := map[key]engine.AuditEntry{}
	entries := readAudit(t, env)
	for _, e := range entries {
		if e.Run != entries[len(entries)-1].Run {
			continue // the killed run's entries only
		}
		k := key{e.Run, e.Action, e.Group, e.Source}
		if e.Outcome == engine.OutcomeStarted {
			open[k] = e
		} else {
			delete(open, k)
		}
	}
	var interrupted []string
	for _, e := range open {
		interrupted = append(interrupted, fmt.Sprintf("%s group=%s source=%s", e.Action, e.Group, e.Source))
	}
	slices.Sort(interrupted)
	t.Logf("left (a request in flight at the kill may still land): %d target users (%d linked), %d target groups, %d audit entries; interrupted writes: %v",
		len(users), linked, len(env.em.Groups(graphemu.SampleTargetTenant)), len(entries), interrupted)
}

func readAudit(t *testing.T, env *reconcileEnv) []engine.AuditEntry {
	t.Helper()
	code, out, errs := xtsync(t, "audit", "--config", env.cfg, "--json")
	var entries []engine.AuditEntry
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil {
		t.Fatalf("audit: exit %d, %v\n%s", code, err, errs)
	}
	return entries
}

// crashPoint is where a run is killed: as soon as the emulator has
// received the n-th request of route (counted from the run's start; a
// throttled or failed attempt counts too).
type crashPoint struct {
	route string
	n     int
	what  string
}

// TestCrashDuringInitialSync SIGKILLs `xtsync reconcile` at several points
// of an initial sync against a slow, flaky target, runs it again after each
// kill, and checks that the end state holds no duplicate, no user without
// its link, exact mirrors and a complete audit, whatever the moment each
// kill fell on. Two sequences of kill points; in each, every point is bound
// to be reached in its run whatever the kill before it left: the runs
// before the group creations die before any group is created (creations
// follow all invitations and links), and the runs that create groups die
// before any member write (those follow all creations), which All Company
// (32 members here) and Engineering (24) need beyond the 20 members a
// creation binds.
func TestCrashDuringInitialSync(t *testing.T) {
	start := time.Now()
	t.Run("early", func(t *testing.T) {
		crashScenario(t, []crashPoint{
			{"POST /invitations", 3, "at the 3rd invitation: users invited, none read back or linked"},
			{"PATCH /users/{id}", 1, "at the 1st link write (a user an interrupted run invited)"},
			{"PATCH /users/{id}", 5, "at the 5th link write (after a batch of invitations)"},
			{"POST /groups", 2, "at the 2nd group creation"},
			{"PATCH /groups/{id}", 1, "at the 1st member write after the creations"},
		})
	})
	t.Run("late", func(t *testing.T) {
		crashScenario(t, []crashPoint{
			{"POST /invitations", 20, "at the 20th invitation"},
			{"PATCH /users/{id}", 10, "at the 10th link write (among the links of users an interrupted run invited)"},
			{"POST /groups", 1, "at the 1st group creation"},
			{"POST /groups", 4, "at the 4th group creation"},
			{"PATCH /groups/{id}", 2, "at the 2nd member write after the creations"},
		})
	})
	t.Logf("both sequences in %s", time.Since(start).Round(time.Millisecond))
}

// crashScenario runs an initial sync killed at points, then to completion,
// and checks the end state.
func crashScenario(t *testing.T, points []crashPoint) {
	start := time.Now()
	env := newReconcileEnv(t, crashScope, "")
	em, src, tgt := env.em, graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	// All Company gets the members of Sales and Finance (32 members),
	// Engineering those of Marketing Team (24): a creation binds 20, so
	// member writes follow.
	for big, more := range map[string][]string{"allcompany": {"sales", "finance"}, "engineering": {"marketing"}} {
		for _, nick := range more {
			g, _ := em.Group(src, env.nick[nick])
			for _, m := range g.Members {
				must(t, em.AddMember(src, env.nick[big], m))
			}
		}
	}
	must(t, em.SetFaults(tgt, graphemu.Faults{
		Latency: graphemu.Duration(10 * time.Millisecond), LatencyJitter: graphemu.Duration(20 * time.Millisecond),
		ThrottleRate: 0.02, RetryAfterMin: graphemu.Duration(50 * time.Millisecond), RetryAfterMax: graphemu.Duration(200 * time.Millisecond),
		ServerErrorRate: 0.01,
	}))
	args := []string{"reconcile", "--config", env.cfg}
	for i, p := range points {
		name := fmt.Sprintf("run %d (killed %s)", i+1, p.what)
		base := em.Stats(tgt).Routes[p.route]
		c := startCrashChild(t, name, args...)
		c.killAt(t, em, tgt, p.route, base, p.n)
		logCrashState(t, env)
	}
	final := startCrashChild(t, fmt.Sprintf("run %d (to completion)", len(points)+1), args...)
	if code := final.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("the run after the kills: exit %d, want 0", code)
	}
	if st := em.Stats(tgt); st.Throttled+st.ServerErrors == 0 {
		t.Errorf("no fault fired (0 throttled, 0 server errors): the test proves less than it says")
	}

	x := expectFromSource(t, env, crashScope)
	mirrors := checkOneMirrorEach(t, em, x)
	users := checkOneUserEach(t, em, x)
	// Nor was a duplicate ever made and cleaned up: the target lists every
	// group and user as soon as it is created, so a run that finds an
	// interrupted creation adopts it; nothing needed deleting.
	for _, g := range em.DeletedGroups(tgt) {
		t.Errorf("target group %s (%s) was created and deleted: a duplicate mirror", g.ID, g.MailNickname)
	}
	for _, u := range em.DeletedUsers(tgt) {
		t.Errorf("target user %s (%s) was created and deleted: a duplicate user", u.ID, u.Mail)
	}
	if err := verifyMirror(em, allScope(env)); err != nil {
		t.Errorf("mirrors not exact: %v", err)
	}
	entries := readAudit(t, env)
	checkAudit(t, em, entries, mirrors, users)
	if t.Failed() {
		for _, e := range entries {
			t.Logf("audit %s %-8s %-14s group=%s source=%s target=%s %s %q", e.Time.Format("15:04:05.000000"), e.Run, e.Action, e.Group, e.Source, e.Target, e.Outcome, e.Detail)
		}
		t.FailNow()
	}

	// Converged: one more run plans nothing and writes nothing.
	before := em.Stats(tgt).Writes()
	code, out, errs := xtsync(t, "reconcile", "--config", env.cfg, "--json")
	var rep engine.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("converged run: exit %d, %v\n%s\n%s", code, err, out, errs)
	}
	if len(rep.Plan.Actions) != 0 {
		t.Errorf("converged run planned %d actions: %+v", len(rep.Plan.Actions), rep.Plan.Actions)
	}
	if n := em.Stats(tgt).Writes() - before; n != 0 {
		t.Errorf("converged run wrote %d times", n)
	}
	st := em.Stats(tgt)
	t.Logf("%d kills and 2 full runs in %s; %d audit entries; target: %d requests, %d writes, %d throttled, %d server errors",
		len(points), time.Since(start).Round(time.Millisecond), len(entries), st.Ops(), st.Writes(), st.Throttled, st.ServerErrors)
}
