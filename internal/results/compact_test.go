package results

import (
	"testing"
	"unsafe"
)

// TestParseShares checks that decoded entries share the strings that
// repeat across them, and say what the file says.
func TestParseShares(t *testing.T) {
	data := []byte(`{"version": 2, "spaces": {
  "A": {"name": "spaces/AAA", "id": "AAA", "status": "created", "requestId": "r1", "principal": "users/admin@example.com",
        "applied": {"settings": {"description": "a", "history": "on"}}},
  "B": {"name": "spaces/BBB", "id": "BBB", "status": "created", "requestId": "r2", "principal": "users/admin@example.com",
        "applied": {"settings": {"description": "b", "history": "on"}}}
}}`)
	f, err := parse("r.json", data)
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Spaces["A"], f.Spaces["B"]
	same := func(what, x, y string) {
		t.Helper()
		if unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are two strings, want one shared", what, x, y)
		}
	}
	same("status", string(a.Status), string(b.Status))
	same("principal", a.Principal, b.Principal)
	same("history", a.Applied.Settings.History, b.Applied.Settings.History)
	for _, tt := range []struct{ got, want string }{
		{a.Name, "spaces/AAA"}, {a.ID, "AAA"}, {a.RequestID, "r1"}, {*a.Applied.Settings.Description, "a"},
		{b.Name, "spaces/BBB"}, {b.ID, "BBB"}, {b.RequestID, "r2"}, {*b.Applied.Settings.Description, "b"},
	} {
		if tt.got != tt.want {
			t.Errorf("parse: %q, want %q", tt.got, tt.want)
		}
	}
}
