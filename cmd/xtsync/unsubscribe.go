package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

const unsubscribeAbout = `Unsubscribe turns xtsync's change notifications off: it deletes the
subscriptions xtsync created on the source tenant and records in the state
that they stay off, so that neither a running serve, a restarted one nor
the AWS reconcile function creates them again (changes then reach the
target only with the scheduled reconcile). xtsync subscribe turns them on.
While xtsync serve runs, its subscriptions are deleted by it; on AWS
(state.dynamodb_table) the reconcile function (state.reconcile_function)
does it.`

const subscribeAbout = `Subscribe turns xtsync's change notifications on again after xtsync
unsubscribe and creates the subscriptions now: in the running serve, by the
AWS reconcile function (state.reconcile_function), or here.`

// subscriptionsAnswer is serve's answer to POST /unsubscribe and
// /subscribe.
type subscriptionsAnswer struct {
	Deleted int    `json:"deleted"`
	Active  int    `json:"active"`
	Error   string `json:"error,omitempty"`
}

// runUnsubscribe is `xtsync unsubscribe`.
func runUnsubscribe(ctx context.Context, e env, args []string) error {
	return switchSubscriptions(ctx, e, args, true)
}

// runSubscribe is `xtsync subscribe`.
func runSubscribe(ctx context.Context, e env, args []string) error {
	return switchSubscriptions(ctx, e, args, false)
}

// switchSubscriptions turns the subscriptions off or on where the state
// lives: in the running serve, through the AWS reconcile function, or
// here.
func switchSubscriptions(ctx context.Context, e env, args []string, off bool) error {
	name, about := "subscribe", subscribeAbout
	if off {
		name, about = "unsubscribe", unsubscribeAbout
	}
	fs := newFlagSet(e, name, "--config FILE", about)
	cfgPath := fs.configFlag()
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	if cfg.State.DynamoDBTable != "" {
		return switchAWSSubscriptions(ctx, e, cfg, off)
	}
	var ans subscriptionsAnswer
	running, err := callServer(ctx, cfg, http.MethodPost, "/"+name, &ans)
	switch {
	case err != nil:
		return err
	case running:
		e.log.Info(name+" run by the running xtsync serve", "admin", cfg.Server.AdminListen)
	default:
		if ans, err = switchLocal(ctx, e, cfg, off); err != nil {
			return err
		}
	}
	if ans.Error != "" {
		return fmt.Errorf("%s: %s", name, ans.Error)
	}
	printSubscriptionsAnswer(e, ans, off)
	return nil
}

// switchLocal turns the subscriptions of the state file off or on while
// no serve runs.
func switchLocal(ctx context.Context, e env, cfg *config.Config, off bool) (subscriptionsAnswer, error) {
	l, err := openLocal(ctx, cfg, e.log, nil)
	if err != nil {
		return subscriptionsAnswer{}, err
	}
	defer l.Close()
	m := l.Subscriptions
	if err := m.Load(ctx); err != nil {
		return subscriptionsAnswer{}, err
	}
	return switchManager(ctx, m, off), nil
}

// switchManager turns a manager's subscriptions off or on and says what
// it did.
func switchManager(ctx context.Context, m subscriptionSwitch, off bool) subscriptionsAnswer {
	var ans subscriptionsAnswer
	var err error
	if off {
		ans.Deleted, err = m.Unsubscribe(ctx)
	} else {
		err = m.Subscribe(ctx)
	}
	ans.Active = len(m.List())
	if err != nil {
		ans.Error = err.Error()
	}
	return ans
}

// subscriptionSwitch is the part of the subscription manager the commands
// use (pkg/subscribe.Manager).
type subscriptionSwitch interface {
	Unsubscribe(ctx context.Context) (int, error)
	Subscribe(ctx context.Context) error
	List() []engine.Subscription
}

var _ subscriptionSwitch = (*subscribe.Manager)(nil)

func printSubscriptionsAnswer(e env, ans subscriptionsAnswer, off bool) {
	if off {
		fmt.Fprintf(e.stdout, "deleted %d subscription(s); notifications stay off (the scheduled reconcile still syncs) until xtsync subscribe\n", ans.Deleted)
		return
	}
	fmt.Fprintf(e.stdout, "notifications on: %d subscription(s) active\n", ans.Active)
}

// switchAWSSubscriptions has the AWS reconcile function turn the
// subscriptions off or on (the CLI writes nothing to the deployment's
// state).
func switchAWSSubscriptions(ctx context.Context, e env, cfg *config.Config, off bool) error {
	what := "on"
	if off {
		what = "off"
	}
	if cfg.State.ReconcileFunction == "" {
		return errAWSWrites(cfg, "set state.reconcile_function to the stack's ReconcileFunctionName output to turn the subscriptions "+what+" through it")
	}
	if _, err := invokeFunction(ctx, cfg, map[string]string{"subscriptions": what}); err != nil {
		return err
	}
	e.log.Info("reconcile function invoked", "function", cfg.State.ReconcileFunction, "subscriptions", what)
	fmt.Fprintf(e.stdout, "notifications %s: the reconcile function %s turned the subscriptions %s (xtsync status lists them)\n", what, cfg.State.ReconcileFunction, what)
	return nil
}

// serveSubscriptions turns the running serve's subscriptions off or on
// (POST /unsubscribe, /subscribe).
func (srv *server) serveSubscriptions(off bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		srv.log.Info("subscriptions switched by an operator", "off", off)
		writeJSON(w, switchManager(r.Context(), srv.local.Subscriptions, off))
	}
}
