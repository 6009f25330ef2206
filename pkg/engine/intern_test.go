package engine

import (
	"reflect"
	"testing"
)

// TestUserInternerShares: a user read in two groups keeps one copy of its
// attributes when they are equal, and its own when they differ (what the
// plan sees is unchanged).
func TestUserInternerShares(t *testing.T) {
	in := userInterner{}
	a := []Member{{ID: "u1", Type: TypeUser, Mail: "a@x", Attrs: map[string]string{"department": "Sales"}}}
	b := []Member{{ID: "u1", Type: TypeUser, Mail: "a@x", Attrs: map[string]string{"department": "Sales"}}}
	c := []Member{{ID: "u1", Type: TypeUser, Mail: "a@x", Attrs: map[string]string{"department": "Finance"}}}
	in.intern(a)
	in.intern(b)
	in.intern(c)
	if reflect.ValueOf(a[0].Attrs).Pointer() != reflect.ValueOf(b[0].Attrs).Pointer() {
		t.Error("equal attributes of one user are two maps")
	}
	if c[0].Attrs["department"] != "Finance" {
		t.Errorf("differing attributes were replaced: %v", c[0].Attrs)
	}
	if !reflect.DeepEqual(b[0], Member{ID: "u1", Type: TypeUser, Mail: "a@x", Attrs: map[string]string{"department": "Sales"}}) {
		t.Errorf("interned member changed: %+v", b[0])
	}
}
