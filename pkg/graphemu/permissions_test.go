package graphemu_test

import (
	"testing"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestPermissions: an app granted only some Graph permissions is answered
// 403 Authorization_RequestDenied for what needs another, as Graph does,
// inside a $batch too; an app without the field may do everything.
func TestPermissions(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	const id, secret = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "reader-secret"
	must(t, em.AddApp(dst, graphemu.App{ClientID: id, Secret: secret, DisplayName: "reader", Permissions: []string{"Group.Read.All", "User.Read.All"}}))
	c := signIn(t, em, dst, id, secret)
	invite := map[string]any{"invitedUserEmailAddress": "someone@partner.example", "inviteRedirectUrl": "https://myapps.microsoft.com"}
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"list groups", "GET", "/groups", nil, 200},
		{"list users", "GET", "/users", nil, 200},
		{"create a group", "POST", "/groups", map[string]any{"displayName": "x", "mailNickname": "x", "securityEnabled": true, "mailEnabled": false}, 403},
		{"invite", "POST", "/invitations", invite, 403},
		{"in a batch", "POST", "/$batch", map[string]any{"requests": []map[string]any{{"id": "1", "method": "POST", "url": "/invitations", "body": invite, "headers": map[string]string{"Content-Type": "application/json"}}}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := c.do(tt.method, tt.path, tt.body)
			if status != tt.want {
				t.Fatalf("%s %s: got %d %s, want %d", tt.method, tt.path, status, jsonText(body), tt.want)
			}
			if status == 403 {
				e, _ := body["error"].(map[string]any)
				if e["code"] != "Authorization_RequestDenied" || e["message"] != "Insufficient privileges to complete the operation." {
					t.Errorf("403 body %s, want Graph's Authorization_RequestDenied", jsonText(body))
				}
			}
			if tt.path == "/$batch" {
				item := body["responses"].([]any)[0].(map[string]any)
				if item["status"] != float64(403) {
					t.Errorf("batch item: %s, want 403", jsonText(item))
				}
			}
		})
	}
	// The sample's own app has every permission.
	if status, body, _ := targetClient(t, em).do("POST", "/invitations", invite); status != 201 {
		t.Errorf("the sample app's invitation: %d %s", status, jsonText(body))
	}
}
