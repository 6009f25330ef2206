package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/config"
)

func TestParseRefusesMultipleDocuments(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   bool
	}{
		{"one document", good, false},
		{"leading marker", "---\n" + good, false},
		{"document end marker", good + "...\n", false},
		{"trailing marker", good + "---\n", false},
		{"trailing marker and comments", good + "---\n# sync: {deletion_threshold: 1}\n", false},
		{"two trailing markers", good + "---\n---\n", false},
		{"second document with a threshold", good + "---\nsync: {deletion_threshold: 999999}\n", true},
		{"second document after an empty one", good + "---\n---\nsync: {deletion_threshold: 1}\n", true},
		{"explicit null document", good + "--- ~\n", true},
		{"explicit empty string document", good + "--- \"\"\n", true},
		{"second document that does not parse", good + "---\n- [\n", true},
		{"empty first document", "---\n---\n" + good, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.doc), env(secrets))
			if got, want := err != nil, tt.wantErr; got != want {
				t.Fatalf("error: got %v, want an error: %v", err, want)
			}
			if err == nil {
				if got, want := *c.Sync.DeletionThreshold, 500; got != want {
					t.Errorf("deletion_threshold: got %d, want %d", got, want)
				}
				return
			}
			configError(t, err)
			for _, want := range []string{"more than one YAML document", "merge them into one"} {
				if got := err.Error(); !strings.Contains(got, want) {
					t.Errorf("error: got %q, want it to contain %q", got, want)
				}
			}
		})
	}
}

func TestEmptyFile(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "---\n", "~\n"} {
		_, err := config.Parse([]byte(doc), env(secrets))
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: got %v, want a *config.Error", doc, err)
		}
	}
}

// expandDoc is good with source.client_secret and sync given by the test.
func expandDoc(secretLine, syncLine string) string {
	doc := strings.Replace(good, `client_secret: "${SRC_SECRET}"`, secretLine, 1)
	if syncLine != "" {
		doc = strings.Replace(doc, "scope:", "sync:\n  "+syncLine+"\nscope:", 1)
	}
	return doc
}

func TestExpansionStaysInsideValues(t *testing.T) {
	tests := []struct {
		name, secretLine, syncLine string
		vars                       map[string]string
		wantSecret                 string
		wantThreshold              int
	}{
		{"newline and a key", `client_secret: "${SRC_SECRET}"`, "", map[string]string{"SRC_SECRET": "x\ndeletion_threshold: 999999"}, "x\ndeletion_threshold: 999999", 500},
		{"newline and a key, unquoted", `client_secret: ${SRC_SECRET}`, "", map[string]string{"SRC_SECRET": "x\ndeletion_threshold: 999999"}, "x\ndeletion_threshold: 999999", 500},
		{"closing brace and scope", `client_secret: "${SRC_SECRET}"`, "", map[string]string{"SRC_SECRET": "x}\nscope: {groups: []}"}, "x}\nscope: {groups: []}", 500},
		{"closing quote and flow mapping", `client_secret: "${SRC_SECRET}"`, "", map[string]string{"SRC_SECRET": `x", deletion_threshold: 1, y: "`}, `x", deletion_threshold: 1, y: "`, 500},
		{"YAML punctuation", `client_secret: ${SRC_SECRET}`, "", map[string]string{"SRC_SECRET": `a#b: 'c" d` + "\n- e\t&f *g !h %i @j `k ---"}, `a#b: 'c" d` + "\n- e\t&f *g !h %i @j `k ---", 500},
		{"looks like null", `client_secret: ${SRC_SECRET}`, "", map[string]string{"SRC_SECRET": "null"}, "null", 500},
		{"looks like a number", `client_secret: ${SRC_SECRET}`, "", map[string]string{"SRC_SECRET": "0123"}, "0123", 500},
		{"a reference in the value is not expanded again", `client_secret: "${SRC_SECRET}"`, "", map[string]string{"SRC_SECRET": "${DST_SECRET}"}, "${DST_SECRET}", 500},
		{"part of a value", `client_secret: "pre-${SRC_SECRET}-post"`, "", map[string]string{"SRC_SECRET": "mid"}, "pre-mid-post", 500},
		{"single quotes", `client_secret: '${SRC_SECRET}'`, "", map[string]string{"SRC_SECRET": "it's"}, "it's", 500},
		{"block scalar", "client_secret: |-\n    ${SRC_SECRET}", "", map[string]string{"SRC_SECRET": "a\nb: c"}, "a\nb: c", 500},
		{"whole threshold", `client_secret: x`, "deletion_threshold: ${T}", map[string]string{"T": "7"}, "x", 7},
		{"quoted threshold", `client_secret: x`, `deletion_threshold: "${T}"`, map[string]string{"T": "42"}, "x", 42},
		{"threshold digits around", `client_secret: x`, "deletion_threshold: 1${T}", map[string]string{"T": "00"}, "x", 100},
		{"comments are not expanded", "client_secret: x # ${UNSET}", "", nil, "x", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"DST_SECRET": "other"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			c, err := config.Parse([]byte(expandDoc(tt.secretLine, tt.syncLine)), env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.Source.ClientSecret, tt.wantSecret; got != want {
				t.Errorf("client_secret: got %q, want %q", got, want)
			}
			if got, want := *c.Sync.DeletionThreshold, tt.wantThreshold; got != want {
				t.Errorf("deletion_threshold: got %d, want %d", got, want)
			}
			if got, want := c.Target.ClientSecret, "other"; got != want {
				t.Errorf("target client_secret: got %q, want %q", got, want)
			}
			if got, want := c.Scope.Groups, []string{"aaaaaaaa-1111-4111-8111-111111111111"}; len(got) != 1 || got[0] != want[0] {
				t.Errorf("scope: got %q, want %q", got, want)
			}
		})
	}
}

func TestExpansionErrors(t *testing.T) {
	tests := []struct {
		name, syncLine string
		vars           map[string]string
		wantKey        string
		wantText       string
		notText        string
	}{
		{"missing variable", "deletion_threshold: ${T}", nil, "sync.deletion_threshold", "environment variable T is not set (referenced as ${T})", ""},
		{"missing variable in a list", "", nil, "scope.groups[1]", "environment variable G is not set", ""},
		{"structure in a number", "deletion_threshold: ${T}", map[string]string{"T": "7\nworkers: 9"}, "sync.deletion_threshold", "is not a whole number", "workers"},
		{"empty number", "deletion_threshold: ${T}", map[string]string{"T": ""}, "sync.deletion_threshold", "is empty once", ""},
		{"boolean", "provision_members: ${P}", map[string]string{"P": "sometimes"}, "sync.provision_members", "is not true or false", "sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"SRC_SECRET": "s", "DST_SECRET": "d"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			doc := expandDoc(`client_secret: "${SRC_SECRET}"`, tt.syncLine)
			if tt.wantKey == "scope.groups[1]" {
				doc = strings.Replace(doc, "111111111111]", "111111111111, \"${G}\"]", 1)
			}
			_, err := config.Parse([]byte(doc), env(vars))
			wantError(t, err, tt.wantKey, tt.wantText)
			if got := err.Error(); tt.notText != "" && strings.Contains(got, tt.notText) {
				t.Errorf("error: got %q, must not contain %q", got, tt.notText)
			}
		})
	}
}

// leak is a secret in the shape Entra issues them; errors must never show
// it, nor its distinctive middle.
const leak = "Zq8Q~s3cr3tVALUE.abcdefghijklmnop-qrstuv"

func TestErrorsNeverEchoSecrets(t *testing.T) {
	tests := []struct {
		name, old, new, wantKey string
	}{
		{"tenant_id", "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", "tenant_id: ${LEAK}", "source.tenant_id"},
		{"client_id literal", "client_id: 0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20", "client_id: " + leak, "source.client_id"},
		{"scope group", "AAAAAAAA-1111-4111-8111-111111111111]", "AAAAAAAA-1111-4111-8111-111111111111, \"${LEAK}\"]", "scope.groups[1]"},
		{"cloud", "cloud: usgov", "cloud: ${LEAK}", "target.cloud"},
		{"graph_endpoint", "cloud: usgov", "graph_endpoint: ${LEAK}", "target.graph_endpoint"},
		{"graph_endpoint credentials", "cloud: usgov", "graph_endpoint: \"http://admin:${LEAK}@graph.example/v1.0?key=${LEAK}#${LEAK}\"", "target.graph_endpoint"},
		{"authority_host", "cloud: usgov", "authority_host: \"${LEAK}\"", "target.authority_host"},
		{"user_type", "scope:", "sync: {user_type: \"${LEAK}\"}\nscope:", "sync.user_type"},
		{"nested_groups", "scope:", "sync: {nested_groups: \"${LEAK}\"}\nscope:", "sync.nested_groups"},
		{"deprovision_users", "scope:", "sync: {deprovision_users: \"${LEAK}\"}\nscope:", "sync.deprovision_users"},
		{"unscoped_groups", "scope:", "sync: {unscoped_groups: \"${LEAK}\"}\nscope:", "sync.unscoped_groups"},
		{"deletion_threshold", "scope:", "sync: {deletion_threshold: \"${LEAK}\"}\nscope:", "sync.deletion_threshold"},
		{"deletion_threshold literal", "scope:", "sync: {deletion_threshold: " + leak + "}\nscope:", "sync.deletion_threshold"},
		{"provision_members", "scope:", "sync: {provision_members: \"${LEAK}\"}\nscope:", "sync.provision_members"},
		{"deletion_window", "scope:", "sync: {deletion_window: \"${LEAK}\"}\nscope:", "sync.deletion_window"},
		{"link_attribute", "scope:", "sync: {link_attribute: \"${LEAK}\"}\nscope:", "sync.link_attribute"},
		{"invite_redirect_url", "scope:", "sync: {invite_redirect_url: \"${LEAK}\"}\nscope:", "sync.invite_redirect_url"},
		{"invite_redirect_url query", "scope:", "sync: {invite_redirect_url: \"http://apps.example/?t=${LEAK}\"}\nscope:", "sync.invite_redirect_url"},
		{"listen", "scope:", "server: {listen: \"${LEAK}\"}\nscope:", "server.listen"},
		{"admin_listen", "scope:", "server: {admin_listen: \"${LEAK}\"}\nscope:", "server.admin_listen"},
		{"admin_listen host:port", "scope:", "server: {admin_listen: \"${LEAK}:1\"}\nscope:", "server.admin_listen"},
		{"public_url", "scope:", "server: {public_url: \"${LEAK}\"}\nscope:", "server.public_url"},
		{"public_url credentials", "scope:", "server: {public_url: \"http://u:${LEAK}@hooks.example/x\"}\nscope:", "server.public_url"},
		{"reconcile_interval", "scope:", "server: {reconcile_interval: \"${LEAK}\"}\nscope:", "server.reconcile_interval"},
		{"workers", "scope:", "server: {workers: \"${LEAK}\"}\nscope:", "server.workers"},
		{"scalar for a section", "scope:\n  groups: [AAAAAAAA-1111-4111-8111-111111111111]", "scope: " + leak, "scope"},
		{"binary that is not base64", `client_secret: "${DST_SECRET}"`, "client_secret: !!binary " + leak, "target.client_secret"},
		{"duplicate key", "cloud: usgov", "client_secret: " + leak, "target.client_secret"},
		{"missing variable", `client_secret: "${DST_SECRET}"`, `client_secret: "${NOT_SET}"`, "target.client_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := edited(t, tt.old, tt.new)
			vars := map[string]string{"LEAK": leak}
			for k, v := range secrets {
				vars[k] = v
			}
			_, err := config.Parse([]byte(doc), env(vars))
			ce := configError(t, err)
			if got, want := ce.Key, tt.wantKey; got != want {
				t.Errorf("key: got %q (%v), want %q", got, err, want)
			}
			assertNoSecret(t, err)
		})
	}
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{leak, "s3cr3t", "VALUE", secrets["SRC_SECRET"], secrets["DST_SECRET"]} {
		if got := err.Error(); strings.Contains(got, s) {
			t.Errorf("error %q shows secret text %q", got, s)
		}
	}
}

func TestParseErrorsNeverEchoSecrets(t *testing.T) {
	tests := []struct {
		name, old, new, wantText string
	}{
		{"unterminated double quote", `client_secret: "${SRC_SECRET}"`, `client_secret: "` + leak, "line "},
		{"unterminated single quote", `client_secret: "${SRC_SECRET}"`, `client_secret: '` + leak, "line "},
		{"colon in a plain value", `client_secret: "${SRC_SECRET}"`, `client_secret: ` + leak + `: more`, "mapping values are not allowed"},
		{"unclosed flow list", `client_secret: "${SRC_SECRET}"`, `client_secret: [` + leak, "line "},
		{"bad escape", `client_secret: "${SRC_SECRET}"`, `client_secret: "` + leak + `\q"`, "line "},
		{"tab indentation", `client_secret: "${SRC_SECRET}"`, "client_secret:\n\t" + leak, "line "},
		{"unknown anchor", `client_secret: "${SRC_SECRET}"`, `client_secret: *` + strings.NewReplacer("~", "", ".", "").Replace(leak), "anchor that is not defined"},
		{"whole file", good, leak + ": [\n", "line "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := edited(t, tt.old, tt.new)
			_, err := config.Parse([]byte(doc), env(secrets))
			configError(t, err)
			if got, want := err.Error(), tt.wantText; !strings.Contains(got, want) {
				t.Errorf("error: got %q, want it to contain %q", got, want)
			}
			assertNoSecret(t, err)
		})
	}
}

func TestGUIDErrorsDescribeTheValue(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"client secret", leak, "a 40-character value that looks like a client secret, not an ID; the Directory (tenant) ID is 8-4-4-4-12 hex digits"},
		{"braces", "{6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31}", "a GUID in braces"},
		{"no dashes", "6f1c2b9e3d4a4c8e9b1f2a7d5e8c0b31", "32 hex digits without the dashes"},
		{"typo", "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b3g", "shaped like a GUID but with characters other than 0-9 and a-f"},
		{"word", "contoso", "is not a GUID (a 7-character value; the Directory (tenant) ID is 8-4-4-4-12 hex digits)"},
		{"empty", "", "is empty; want the Directory (tenant) ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(good, "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", `tenant_id: "`+tt.value+`"`, 1)
			_, err := config.Parse([]byte(doc), env(secrets))
			if err == nil {
				t.Fatal("accepted")
			}
			if got, want := err.Error(), tt.want; !strings.Contains(got, want) {
				t.Errorf("error: got %q, want it to contain %q", got, want)
			}
			if got := err.Error(); tt.value != "" && strings.Contains(got, tt.value) {
				t.Errorf("error %q repeats the value", got)
			}
		})
	}
}

// TestDocsExampleParses keeps docs/config.md's example valid and complete.
func TestDocsExampleParses(t *testing.T) {
	b, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no ```yaml block in docs/config.md")
	}
	c, err := config.Parse([]byte(example), func(string) (string, bool) { return "x", true })
	if err != nil {
		t.Fatalf("docs example: %v", err)
	}
	for _, tt := range []struct{ got, want string }{
		{c.Sync.LinkAttribute, "extensionAttribute15"},
		{c.Sync.DeletionWindow, "1h"},
		{c.State.Path, "./xtsync.db"},
	} {
		if tt.got != tt.want {
			t.Errorf("docs example: got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAliasesExpandOnce(t *testing.T) {
	doc := strings.NewReplacer(
		`client_secret: "${SRC_SECRET}"`, `client_secret: &secret "${SRC_SECRET}"`,
		`client_secret: "${DST_SECRET}"`, `client_secret: *secret`,
	).Replace(good)
	tests := []struct {
		name, value string
	}{
		{"plain", "shared"},
		{"a reference as the value", "${DST_SECRET}"},
		{"structure as the value", "x\n  cloud: china"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(doc), env(map[string]string{"SRC_SECRET": tt.value, "DST_SECRET": "leaked"}))
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []string{c.Source.ClientSecret, c.Target.ClientSecret} {
				if want := tt.value; got != want {
					t.Errorf("client_secret: got %q, want %q", got, want)
				}
			}
			if got, want := c.Target.Cloud, "usgov"; got != want {
				t.Errorf("target.cloud: got %q, want %q", got, want)
			}
		})
	}
}
