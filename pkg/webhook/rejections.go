package webhook

import (
	"context"
	"strings"
)

// maxLoggedRejections caps the security events logged for one request; the
// rest are counted and summed up in one line, so a 1 MiB body of forged
// items cannot flood the log.
const maxLoggedRejections = 10

// maxLoggedID caps how much of a received subscription id is logged.
const maxLoggedID = 64

// rejections counts, and logs as security events, the items of one request
// that are dropped. It never logs a clientState or the body.
type rejections struct {
	h        *Handler
	ctx      context.Context
	security int // items rejected for a reason other than scope
}

// add counts and logs one rejected item.
func (rj *rejections) add(it *item, why reason, group string) {
	rj.h.stats.rejected[why].Add(1)
	if why == reasonOutOfScope {
		rj.h.log.DebugContext(rj.ctx, "webhook group out of scope", "group", group, "subscription", it.SubscriptionID)
		return
	}
	rj.security++
	if rj.security > maxLoggedRejections {
		return
	}
	rj.h.log.WarnContext(rj.ctx, "webhook item rejected", "reason", why.String(), "subscription", clip(it.SubscriptionID))
}

// done logs how many security events were not logged one by one.
func (rj *rejections) done() {
	if n := rj.security - maxLoggedRejections; n > 0 {
		rj.h.log.WarnContext(rj.ctx, "webhook items rejected", "count", rj.security, "unlogged", n)
	}
}

// clip shortens an untrusted string for a log line.
func clip(s string) string {
	if len(s) <= maxLoggedID {
		return s
	}
	return strings.ToValidUTF8(s[:maxLoggedID], "") + "..."
}
