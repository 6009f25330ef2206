package msgraph

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// EndpointError is a transport failure reaching a tenant's Graph or
// sign-in host, told in one line that names the configuration keys to
// check; Unwrap gives the failure itself.
type EndpointError struct {
	Text string
	err  error
}

func (e *EndpointError) Error() string { return e.Text }
func (e *EndpointError) Unwrap() error { return e.err }

// configKey is a key of a tenant's configuration section ("source.ca_file"),
// the bare name when the section is not known.
func configKey(section, name string) string {
	if section == "" {
		return name
	}
	return section + "." + name
}

// endpointText tells a transport failure: an untrusted certificate
// (ca_file), a host that does not resolve or answer (key: graph_endpoint
// or authority_host; cloud); ok is false for anything else. The failure's
// type decides, else its text (MSAL reports a sign-in's transport failure
// as text only).
func endpointText(section, key, host string, err error) (text string, ok bool) {
	k := func(name string) string { return configKey(section, name) }
	untrusted := func(detail string) string {
		return fmt.Sprintf("%s: %s presented a TLS certificate this machine does not trust%s: set %s to the CA that signed it (the emulator's is .xtsync/emulator-ca.pem), or check %s", k(key), host, detail, k("ca_file"), k(key))
	}
	unresolved := func(detail string) string {
		return fmt.Sprintf("%s: %s does not resolve%s: check %s and %s", k(key), host, detail, k(key), k("cloud"))
	}
	unreachable := func(detail string) string {
		return fmt.Sprintf("%s: cannot reach %s%s: check %s, and the network or proxy between", k(key), host, detail, k(key))
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var dns *net.DNSError
	var op *net.OpError
	msg := err.Error()
	switch {
	case errors.As(err, &unknown):
		return untrusted(fmt.Sprintf(" (%v)", unknown)), true
	case errors.As(err, &invalid):
		return fmt.Sprintf("%s: %s presented an invalid TLS certificate (%v): check %s and %s", k(key), host, invalid, k(key), k("ca_file")), true
	case errors.As(err, &hostname):
		return fmt.Sprintf("%s: %s presented a TLS certificate for another host (%v): check %s", k(key), host, hostname, k(key)), true
	case errors.As(err, &dns):
		return unresolved(fmt.Sprintf(" (%v)", dns)), true
	case errors.As(err, &op) && op.Op == "dial":
		return unreachable(fmt.Sprintf(" (%v)", op.Err)), true
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return untrusted(""), true
	case strings.Contains(msg, "no such host"):
		return unresolved(""), true
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "i/o timeout"):
		return unreachable(""), true
	}
	return "", false
}
