// Package engine mirrors security groups of a source tenant into a target
// tenant. It declares the ports it consumes (Source, Target, Store, Clock),
// plans the changes that make the target match the source (a pure function
// of two snapshots and the state), checks the plan against the deletion
// threshold, and applies it, recording every action in the audit log.
//
// The engine is level-triggered per group: SyncGroups reads a group's source
// and target and applies the difference, so it is idempotent and safe to
// repeat. Reconcile does that for the whole scope; DeltaSync applies exact
// membership changes from Graph's group delta and falls back to SyncGroups
// when its token has expired.
package engine
