package graphemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// dotnetEpochTicks is 1970-01-01 in .NET ticks (100 ns since 0001-01-01):
// Graph's directory notifications number events in ticks (sequenceNumber).
const dotnetEpochTicks = 621355968000000000

// delivery is one notification waiting to be posted.
type delivery struct {
	url      string
	item     map[string]any
	due      time.Time
	first    time.Time
	attempts int
	tenant   string
}

// DeliveryStats count what the emulator's notification sender did.
type DeliveryStats struct {
	Queued     int `json:"queued"`
	Delivered  int `json:"delivered"`
	Dropped    int `json:"dropped"`
	Duplicated int `json:"duplicated"`
	Retried    int `json:"retried"`
	Failed     int `json:"failed"` // gave up after the retry window
	Lifecycle  int `json:"lifecycle"`
}

type outbox struct {
	mu       sync.Mutex
	pending  []*delivery
	inflight int
	wake     chan struct{}
	stats    DeliveryStats
}

func (o *outbox) push(d *delivery) {
	o.mu.Lock()
	o.pending = append(o.pending, d)
	o.stats.Queued++
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// queueNotifications queues the change notifications for a change to the
// group or user id (coll "groups" or "users") in t, one per matching
// subscription, with the tenant's notification faults. Users are notified
// like groups: resource "Users/{id}", resourceData of @odata.type
// "#Microsoft.Graph.User"
// (https://learn.microsoft.com/en-us/graph/change-notifications-overview,
// user row: "/users" or "/users/{id}"). Call with e.mu held.
func (e *Emulator) queueNotifications(t *Tenant, coll, id, changeType string) {
	now := e.now()
	f := t.faults
	name, typ := "Groups/", "#Microsoft.Graph.Group"
	if coll == collUsers {
		name, typ = "Users/", "#Microsoft.Graph.User"
	}
	for _, sid := range t.subOrder {
		s := t.subs[sid]
		target, _ := parseSubResource(s.Resource)
		if target.coll != coll || (target.id != "" && target.id != id) {
			continue
		}
		if !slices.Contains(strings.Split(strings.ReplaceAll(s.ChangeType, " ", ""), ","), changeType) {
			continue
		}
		if !now.Before(s.ExpirationDateTime) {
			continue
		}
		if f.NotifyDropRate > 0 && e.rng.Float64() < f.NotifyDropRate {
			e.out.mu.Lock()
			e.out.stats.Dropped++
			e.out.mu.Unlock()
			continue
		}
		item := map[string]any{
			"changeType":                     changeType,
			"clientState":                    s.ClientState,
			"resource":                       name + id,
			"resourceData":                   map[string]any{"@odata.type": typ, "@odata.id": name + id, "id": id, "organizationId": t.ID, "eventTime": now.UTC().Format(subTimeFormat), "sequenceNumber": now.UnixNano()/100 + dotnetEpochTicks},
			"subscriptionExpirationDateTime": s.ExpirationDateTime.UTC().Format(subTimeFormat),
			"subscriptionId":                 s.ID,
			"tenantId":                       t.ID,
		}
		due := now.Add(f.NotifyDelay.D())
		if j := f.NotifyJitter.D(); j > 0 {
			due = due.Add(time.Duration(e.rng.Int64N(int64(j))))
		}
		copies := 1
		if f.NotifyDuplicateRate > 0 && e.rng.Float64() < f.NotifyDuplicateRate {
			copies = 2
			e.out.mu.Lock()
			e.out.stats.Duplicated++
			e.out.mu.Unlock()
		}
		for range copies {
			e.out.push(&delivery{url: s.NotificationURL, item: item, due: due, first: now, tenant: t.ID})
		}
	}
}

// deliverLoop posts due notifications, batching those for one URL into one
// request as Graph does, and reschedules failures with backoff.
func (e *Emulator) deliverLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		now := e.now()
		e.out.mu.Lock()
		byURL := map[string][]*delivery{}
		var order []string
		next := time.Duration(time.Hour)
		rest := e.out.pending[:0]
		for _, d := range e.out.pending {
			if wait := d.due.Sub(now); wait > 0 {
				next = min(next, wait)
				rest = append(rest, d)
				continue
			}
			if _, seen := byURL[d.url]; !seen {
				order = append(order, d.url)
			}
			byURL[d.url] = append(byURL[d.url], d)
		}
		e.out.pending = rest
		for _, u := range order {
			e.out.inflight += len(byURL[u])
		}
		e.out.mu.Unlock()
		for _, u := range order {
			batch := byURL[u]
			for len(batch) > 0 {
				n := min(len(batch), 100)
				part := batch[:n]
				batch = batch[n:]
				inflight.Add(1)
				go func() { defer inflight.Done(); e.post(part) }()
			}
		}
		timer.Reset(next)
		select {
		case <-e.ctx.Done():
			return
		case <-e.out.wake:
		case <-timer.C:
		}
	}
}

// post delivers one batch of notifications to one URL.
func (e *Emulator) post(ds []*delivery) {
	defer func() {
		e.out.mu.Lock()
		e.out.inflight -= len(ds)
		e.out.mu.Unlock()
	}()
	items := make([]map[string]any, len(ds))
	for i, d := range ds {
		items[i] = d.item
	}
	body, _ := json.Marshal(map[string]any{"value": items})
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.NotifyTimeout)
	defer cancel()
	status := 0
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ds[0].url, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		var resp *http.Response
		resp, err = e.opts.NotifyClient.Do(req)
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
	}
	if err == nil && status >= 200 && status < 300 {
		e.out.mu.Lock()
		e.out.stats.Delivered += len(ds)
		e.out.mu.Unlock()
		return
	}
	if e.ctx.Err() != nil {
		return
	}
	e.log.Debug("emulator notification failed", "url", ds[0].url, "status", status, "err", err)
	now := e.now()
	for _, d := range ds {
		d.attempts++
		backoff := e.opts.NotifyRetryBase << min(d.attempts-1, 16)
		if now.Add(backoff).Sub(d.first) > e.opts.NotifyRetryWindow {
			e.out.mu.Lock()
			e.out.stats.Failed++
			e.out.mu.Unlock()
			continue
		}
		d.due = now.Add(backoff)
		e.out.mu.Lock()
		e.out.stats.Retried++
		e.out.mu.Unlock()
		e.out.push(d)
	}
}

// lifecycleLoop sends reauthorizationRequired before subscriptions expire
// and removes expired ones.
func (e *Emulator) lifecycleLoop() {
	tick := time.NewTicker(e.opts.LifecycleTick)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
			e.checkLifecycle()
		}
	}
}

func (e *Emulator) checkLifecycle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, t := range e.tenants {
		for _, id := range slices.Clone(t.subOrder) {
			s := t.subs[id]
			switch {
			case !now.Before(s.ExpirationDateTime):
				t.dropSub(id)
			case !s.reauthSent && s.ExpirationDateTime.Sub(now) <= e.opts.ReauthBefore:
				s.reauthSent = true
				e.queueLifecycle(t, s, "reauthorizationRequired")
			}
		}
	}
}

// queueLifecycle queues a lifecycle notification. Call with e.mu held.
func (e *Emulator) queueLifecycle(t *Tenant, s *Subscription, event string) {
	if s.LifecycleNotificationURL == "" {
		return
	}
	e.out.mu.Lock()
	e.out.stats.Lifecycle++
	e.out.mu.Unlock()
	now := e.now()
	e.out.push(&delivery{url: s.LifecycleNotificationURL, due: now, first: now, tenant: t.ID, item: map[string]any{
		"subscriptionId":                 s.ID,
		"subscriptionExpirationDateTime": s.ExpirationDateTime.UTC().Format(subTimeFormat),
		"tenantId":                       t.ID,
		"clientState":                    s.ClientState,
		"lifecycleEvent":                 event,
	}})
}

// FireLifecycle sends a lifecycle event (reauthorizationRequired,
// subscriptionRemoved or missed) for a subscription now. subscriptionRemoved
// also deletes the subscription, as Graph does.
func (e *Emulator) FireLifecycle(tenantID, subID, event string) error {
	switch event {
	case "reauthorizationRequired", "subscriptionRemoved", "missed":
	default:
		return fmt.Errorf("lifecycle event %q: want reauthorizationRequired, subscriptionRemoved or missed", event)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, found := e.tenant(tenantID)
	if !found {
		return errTenant(tenantID)
	}
	s, found := t.subs[subID]
	if !found {
		return fmt.Errorf("subscription %s: %w", subID, ErrNotFound)
	}
	e.queueLifecycle(t, s, event)
	if event == "subscriptionRemoved" {
		t.dropSub(subID)
	}
	return nil
}

// PendingDeliveries is how many notifications are waiting to be posted or
// being posted (retries included).
func (e *Emulator) PendingDeliveries() int {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	return len(e.out.pending) + e.out.inflight
}

// DeliveryStats reports what the notification sender has done so far.
func (e *Emulator) DeliveryStats() DeliveryStats {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	return e.out.stats
}
