// Command xtsync-image writes the container image of a built xtsync
// binary (see internal/ociimage): make image runs it.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/xtsync/xtsync/internal/ociimage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "xtsync-image:", err)
		os.Exit(1)
	}
}

// run only wires: flags to ociimage.Write.
func run(args []string) error {
	fs := flag.NewFlagSet("xtsync-image", flag.ContinueOnError)
	bin := fs.String("binary", "", "the static linux `file` to install as /xtsync")
	out := fs.String("o", "bin/xtsync-image.tar", "the image tar to write (`file`)")
	ca := fs.String("ca", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle (`file`) the image trusts")
	tag := fs.String("tag", "xtsync:dev", "the image `name:tag`")
	arch := fs.String("arch", "amd64", "the binary's GOARCH")
	version := fs.String("version", "", "org.opencontainers.image.version label")
	revision := fs.String("revision", "", "org.opencontainers.image.revision label")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" {
		return errors.New("-binary is required")
	}
	b, err := os.ReadFile(*bin)
	if err != nil {
		return err
	}
	certs, err := os.ReadFile(*ca)
	if err != nil {
		return fmt.Errorf("-ca: %w (install Debian's ca-certificates, or pass another bundle)", err)
	}
	created := time.Unix(0, 0)
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: not a number of seconds", v)
		}
		created = time.Unix(secs, 0)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = ociimage.Write(w, ociimage.Image{
		Binary: b, Name: "xtsync", CACerts: certs, Created: created, Arch: *arch, Tag: *tag,
		Cmd: []string{"serve", "--config", "/etc/xtsync/xtsync.yaml"},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "xtsync",
			"org.opencontainers.image.version":  *version,
			"org.opencontainers.image.revision": *revision,
			"org.opencontainers.image.source":   "https://github.com/xtsync/xtsync",
		},
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
