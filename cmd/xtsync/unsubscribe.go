package main

import (
	"context"
	"fmt"
)

const unsubscribeAbout = `Unsubscribe deletes the change-notification subscriptions xtsync created
on the source tenant (stop xtsync serve first: it would create them again).`

// runUnsubscribe is `xtsync unsubscribe`.
func runUnsubscribe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "unsubscribe", "--config FILE", unsubscribeAbout)
	cfgPath := fs.configFlag()
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	var st statusReport
	if running, err := fromServer(ctx, cfg, "/status", &st); err == nil && running {
		return fmt.Errorf("xtsync serve is running (admin on %s) and would create the subscriptions again: stop it (SIGINT or SIGTERM), then run xtsync unsubscribe", cfg.Server.AdminListen)
	}
	l, err := openLocal(ctx, cfg, e.log, nil)
	if err != nil {
		return err
	}
	defer l.Close()
	m := l.Subscriptions
	if err := m.Load(ctx); err != nil {
		return err
	}
	n := len(m.List())
	if err := m.Unsubscribe(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %d subscription(s)\n", n)
	return nil
}
