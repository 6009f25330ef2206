package ociimage_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/ociimage"
)

// files reads a tar into name -> bytes (and modes).
func files(t *testing.T, r io.Reader) (map[string][]byte, map[string]int64) {
	t.Helper()
	out, modes := map[string][]byte{}, map[string]int64{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, modes
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name], modes[h.Name] = b, h.Mode
	}
}

// TestImage builds the image of the real xtsync binary twice: the bytes
// are the same; every blob is named by its digest; the config runs
// /xtsync as a non-root user with the CA bundle; and the binary taken out
// of the layer runs.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image holds a linux binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "xtsync")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/xtsync/xtsync/cmd/xtsync")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := ociimage.Image{
		Binary: binary, Name: "xtsync", CACerts: []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
		Created: time.Unix(1764590400, 0), Arch: runtime.GOARCH, Tag: "xtsync:test", Cmd: []string{"serve"},
	}
	var a, b bytes.Buffer
	if err := ociimage.Write(&a, img); err != nil {
		t.Fatal(err)
	}
	if err := ociimage.Write(&b, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two builds of the same inputs differ: not reproducible")
	}
	got, _ := files(t, bytes.NewReader(a.Bytes()))
	for name, data := range got {
		if hexDigest, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && hexDigest != "" {
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != hexDigest {
				t.Errorf("blob %s holds other bytes", name)
			}
		}
	}
	var docker []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(got["manifest.json"], &docker); err != nil || len(docker) != 1 || len(docker[0].Layers) != 1 || docker[0].RepoTags[0] != "xtsync:test" {
		t.Fatalf("manifest.json: %s (%v)", got["manifest.json"], err)
	}
	var cfg struct {
		Config struct {
			User       string
			Entrypoint []string
			Env        []string
		} `json:"config"`
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	}
	if err := json.Unmarshal(got[docker[0].Config], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || strings.Join(cfg.Config.Entrypoint, " ") != "/xtsync" || cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("config %+v: want /xtsync as 65532:65532 on linux/%s", cfg, runtime.GOARCH)
	}
	zr, err := gzip.NewReader(bytes.NewReader(got[docker[0].Layers[0]]))
	if err != nil {
		t.Fatal(err)
	}
	layer, modes := files(t, zr)
	if !bytes.Equal(layer["xtsync"], binary) || modes["xtsync"] != 0o755 || !strings.Contains(string(layer["etc/passwd"]), "nonroot:x:65532:65532") || len(layer["etc/ssl/certs/ca-certificates.crt"]) == 0 {
		t.Fatalf("layer: files %d, xtsync mode %o, passwd %q", len(layer), modes["xtsync"], layer["etc/passwd"])
	}
	out := filepath.Join(dir, "from-image")
	if err := os.WriteFile(out, layer["xtsync"], 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := exec.Command(out, "--version").Output()
	if err != nil || !strings.HasPrefix(string(v), "xtsync ") {
		t.Errorf("the image's binary: %q, %v", v, err)
	}
}
