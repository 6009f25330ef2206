// Package ociimage writes a container image of one static binary as a
// single tar that both `docker load` / `podman load` (its manifest.json)
// and OCI tools (`skopeo copy oci-archive:…`: its oci-layout and
// index.json) read. The image is the binary, the CA certificates it
// trusts and an /etc/passwd naming the non-root user it runs as; nothing
// else (no shell, no package manager). Every timestamp is the given one
// and every list is in a fixed order, so the same inputs make the same
// bytes: the image is reproducible.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Image is what goes into the image.
type Image struct {
	// Binary is the static executable, installed as /Name.
	Binary []byte
	Name   string
	// CACerts is a PEM bundle, installed as /etc/ssl/certs/ca-certificates.crt.
	CACerts []byte
	// UID and GID run the entrypoint (65532, "nonroot", by default).
	UID, GID int
	// Cmd follows the entrypoint (/Name) by default.
	Cmd []string
	// Created is every file's and the image's time (reproducible builds
	// take it from SOURCE_DATE_EPOCH or the commit).
	Created time.Time
	// Arch is the GOARCH the binary was built for ("amd64", "arm64").
	Arch string
	// Tag names the image for docker load ("xtsync:dev").
	Tag string
	// Labels are the image config's labels (org.opencontainers.image.*).
	Labels map[string]string
}

// Write writes the image tar to w.
func Write(w io.Writer, img Image) error {
	if img.Name == "" || len(img.Binary) == 0 {
		return fmt.Errorf("ociimage: no binary")
	}
	if img.UID == 0 {
		img.UID, img.GID = 65532, 65532
	}
	img.Created = img.Created.UTC().Truncate(time.Second)
	raw, err := rootfs(img)
	if err != nil {
		return err
	}
	layer, err := gzipped(raw)
	if err != nil {
		return err
	}
	layerDigest := digest(layer)
	cfg, err := json.Marshal(imageConfig(img, digest(raw)))
	if err != nil {
		return err
	}
	cfgDigest := digest(cfg)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor("application/vnd.oci.image.config.v1+json", cfgDigest, len(cfg)),
		"layers":        []any{descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, len(layer))},
	})
	if err != nil {
		return err
	}
	manDigest := digest(manifest)
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manDigest, "size": len(manifest),
			"annotations": map[string]string{"io.containerd.image.name": img.Tag, "org.opencontainers.image.ref.name": refName(img.Tag)},
		}},
	})
	if err != nil {
		return err
	}
	dockerManifest, err := json.Marshal([]any{map[string]any{
		"Config": blobPath(cfgDigest), "RepoTags": []string{img.Tag}, "Layers": []string{blobPath(layerDigest)},
	}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{"manifest.json", dockerManifest},
		{blobPath(cfgDigest), cfg},
		{blobPath(layerDigest), layer},
		{blobPath(manDigest), manifest},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: img.Created}); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := writeFile(tw, f.name, f.data, 0o644, 0, 0, img.Created); err != nil {
			return err
		}
	}
	return tw.Close()
}

// rootfs is the image's one layer.
func rootfs(img Image) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/", "tmp/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: img.Created}); err != nil {
			return nil, err
		}
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", img.UID, img.GID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", img.GID)
	for _, f := range []struct {
		name string
		data []byte
		mode int64
	}{
		{"etc/group", []byte(group), 0o644},
		{"etc/passwd", []byte(passwd), 0o644},
		{"etc/ssl/certs/ca-certificates.crt", img.CACerts, 0o644},
		{img.Name, img.Binary, 0o755},
	} {
		if err := writeFile(tw, f.name, f.data, f.mode, 0, 0, img.Created); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// gzipped compresses a layer; gzip's header carries no name and no time,
// so the same layer compresses to the same bytes.
func gzipped(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// imageConfig is the OCI image config: non-root user, entrypoint, the
// layer's diff id (the digest of the uncompressed layer).
func imageConfig(img Image, diffID string) map[string]any {
	return map[string]any{
		"created":      img.Created.UTC().Format(time.RFC3339),
		"architecture": img.Arch,
		"os":           "linux",
		"config": map[string]any{
			"User":       fmt.Sprintf("%d:%d", img.UID, img.GID),
			"Entrypoint": []string{"/" + img.Name},
			"Cmd":        img.Cmd,
			"Env":        []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
			"WorkingDir": "/tmp",
			"Labels":     img.Labels,
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []any{map[string]any{"created": img.Created.UTC().Format(time.RFC3339), "created_by": "xtsync internal/ociimage"}},
	}
}

func writeFile(tw *tar.Writer, name string, data []byte, mode int64, uid, gid int, at time.Time) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), Uid: uid, Gid: gid, ModTime: at}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func blobPath(d string) string { return "blobs/sha256/" + d[len("sha256:"):] }

func descriptor(mediaType, d string, size int) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": d, "size": size}
}

// refName is the tag part of name:tag ("latest" when none).
func refName(tag string) string {
	for i := len(tag) - 1; i >= 0 && tag[i] != '/'; i-- {
		if tag[i] == ':' {
			return tag[i+1:]
		}
	}
	return "latest"
}
