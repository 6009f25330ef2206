package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// seedFromFlag reads the --seed file, or returns the built-in sample seed
// when path is empty. A file that does not parse is a usage error naming the
// flag; entries are checked when the emulator loads the seed.
func seedFromFlag(path string) (graphemu.Seed, error) {
	if path == "" {
		return graphemu.SampleSeed(), nil
	}
	s, err := graphemu.ReadSeedFile(path)
	if err != nil {
		return graphemu.Seed{}, usagef("--seed %s: %v", path, err)
	}
	return s, nil
}

// faultsFromFlag reads and validates the --faults file (JSON
// graphemu.Faults, unknown fields refused); nil when path is empty.
func faultsFromFlag(path string) (*graphemu.Faults, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--faults %s: %v", path, err)
	}
	var f graphemu.Faults
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, usagef("--faults %s: parse faults: %v", path, err)
	}
	if dec.More() {
		return nil, usagef("--faults %s: more than one JSON value", path)
	}
	if err := f.Validate(); err != nil {
		return nil, usagef("--faults %s: %v", path, err)
	}
	return &f, nil
}

// writeSampleSeed writes the built-in sample seed as indented JSON to path,
// or to stdout when path is "-".
func writeSampleSeed(e env, path string) error {
	b, err := json.MarshalIndent(graphemu.SampleSeed(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode the sample seed: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err := e.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--seed-out %s: %w", path, err)
	}
	fmt.Fprintf(e.stdout, "wrote the sample seed (%d tenants) to %s\n", len(graphemu.SampleSeed().Tenants), path)
	return nil
}
