package main

import (
	"context"
	"fmt"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

const unsubscribeAbout = `Unsubscribe deletes the change-notification subscriptions xtsync created
on the source tenant (stop xtsync serve first: it would create them again).`

// runUnsubscribe is `xtsync unsubscribe`.
func runUnsubscribe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "unsubscribe", "--config FILE", unsubscribeAbout)
	cfgPath := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	src, err := msgraph.ForTenant(cfg.Source, e.log)
	if err != nil {
		return &usageError{fmt.Errorf("source: %w", err)}
	}
	return withStore(cfg, func(store engine.Store) error {
		m, err := subscribe.New(subscribe.Config{Graph: msgraph.NewSubscriptions(src), Store: store, TenantID: cfg.Source.TenantID, Scope: cfg.Scope.Groups, PublicURL: cfg.Server.PublicURL, Clock: engine.SystemClock{}, Log: e.log})
		if err != nil {
			return err
		}
		if err := m.Load(ctx); err != nil {
			return err
		}
		n := len(m.List())
		if err := m.Unsubscribe(ctx); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %d subscription(s)\n", n)
		return nil
	})
}
