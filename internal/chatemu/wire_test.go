package chatemu

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/wire")

// TestWireGolden keeps the exact answers clients parse (status line, the
// headers that matter, the body) in testdata/wire, so that a change to
// them is seen in review; go test -run TestWireGolden -update rewrites
// them.
func TestWireGolden(t *testing.T) {
	t.Parallel()
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	srv := New(WithSeed(1), WithClock(clock), WithToken("tok"), WithCreationLimit(4, 0))
	tests := []struct {
		name, method, path, auth, body string
	}{
		{"create", "POST", "/v1/spaces?requestId=r1", "Bearer tok", `{"displayName":"Wire","spaceType":"SPACE","spaceDetails":{"description":"d"}}`},
		{"replay", "POST", "/v1/spaces?requestId=r1", "Bearer tok", `{"display_name":"Wire","space_type":"SPACE"}`},
		{"already-exists", "POST", "/v1/spaces", "Bearer tok", `{"displayName":"wire","spaceType":"SPACE"}`},
		{"unknown-fields", "POST", "/v1/spaces", "Bearer tok", `{"displayName":"x","spaceType":"SPACE","colour":1,"spaceDetails":{"size":2}}`},
		{"rate-limited", "POST", "/v1/spaces", "Bearer tok", `{"displayName":"Later","spaceType":"SPACE"}`},
		{"credentials-missing", "GET", "/v1/spaces", "", ``},
		{"credentials-invalid", "GET", "/v1/spaces", "Bearer nope", ``},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var got bytes.Buffer
		got.WriteString("> " + tt.method + " " + tt.path + "\n")
		if tt.body != "" {
			got.WriteString("> " + tt.body + "\n")
		}
		got.WriteString("< " + rec.Result().Status + "\n")
		for _, h := range []string{"Content-Type", "Retry-After", "Www-Authenticate"} {
			if v := rec.Header().Get(h); v != "" {
				got.WriteString("< " + h + ": " + v + "\n")
			}
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
			t.Fatalf("%s: body %q: %v", tt.name, rec.Body, err)
		}
		got.Write(pretty.Bytes())
		file := filepath.Join("testdata", "wire", tt.name+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run TestWireGolden -update)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: answer differs from %s:\n%s\nwant:\n%s", tt.name, file, got.Bytes(), want)
		}
	}
}
