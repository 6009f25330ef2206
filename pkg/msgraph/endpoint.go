package msgraph

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
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

// endpointText tells a transport failure: an untrusted certificate
// (ca_file), a host that does not resolve or answer (key: graph_endpoint
// or authority_host; cloud); ok is false for anything else.
func endpointText(section, key, host string, err error) (text string, ok bool) {
	k := func(name string) string {
		if section == "" {
			return name
		}
		return section + "." + name
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &unknown):
		return fmt.Sprintf("%s: %s presented a TLS certificate this machine does not trust (%v): set %s to the CA that signed it (the emulator's is .xtsync/emulator-ca.pem), or check %s", k(key), host, unknown, k("ca_file"), k(key)), true
	case errors.As(err, &invalid):
		return fmt.Sprintf("%s: %s presented an invalid TLS certificate (%v): check %s and %s", k(key), host, invalid, k(key), k("ca_file")), true
	case errors.As(err, &hostname):
		return fmt.Sprintf("%s: %s presented a TLS certificate for another host (%v): check %s", k(key), host, hostname, k(key)), true
	case errors.As(err, &dns):
		return fmt.Sprintf("%s: %s does not resolve (%v): check %s and %s", k(key), host, dns, k(key), k("cloud")), true
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("%s: cannot reach %s (%v): check %s, and the network or proxy between", k(key), host, op.Err, k(key)), true
	}
	return "", false
}
