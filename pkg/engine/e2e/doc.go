// Package e2e holds the engine's behaviour tests: the real engine, through
// the msgraph adapter (msgraph-sdk-go and azidentity), against the Graph
// emulator playing both tenants. It has no non-test code.
package e2e
