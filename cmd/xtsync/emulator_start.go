package main

import (
	"fmt"
	"log/slog"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// emulatorConfig is what startEmulator needs.
type emulatorConfig struct {
	log  *slog.Logger
	seed graphemu.Seed
	// seedFlag is the --seed file the seed came from ("" for the built-in
	// sample); a seed that does not load is then a usage error naming it.
	seedFlag string
	// faults, when set, replace every tenant's faults.
	faults                 *graphemu.Faults
	listen                 string
	allowHTTPNotifications bool
}

// startEmulator creates an emulator, loads the seed, applies the faults and
// serves it on c.listen. The caller closes it.
func startEmulator(c emulatorConfig) (*graphemu.Emulator, error) {
	em := graphemu.New(graphemu.Options{
		Logger:                 c.log.With("component", "graphemu"),
		AllowHTTPNotifications: c.allowHTTPNotifications,
	})
	if err := em.Load(c.seed); err != nil {
		_ = em.Close()
		if c.seedFlag != "" {
			return nil, usagef("--seed %s: %v", c.seedFlag, err)
		}
		return nil, fmt.Errorf("load the built-in sample seed: %w", err)
	}
	if c.faults != nil {
		for _, id := range em.TenantIDs() {
			if err := em.SetFaults(id, *c.faults); err != nil {
				_ = em.Close()
				return nil, usagef("--faults: %v", err)
			}
		}
	}
	if err := em.Start(c.listen); err != nil {
		_ = em.Close()
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	return em, nil
}
