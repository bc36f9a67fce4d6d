package chatemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// python finds an interpreter with Google's Python client
// (google-api-python-client; Debian: python3-googleapi), or "".
func python() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import googleapiclient.discovery, httplib2").Run() == nil {
			return p
		}
	}
	return ""
}

// pyStep is what testdata/pyclient.py reports for one call.
type pyStep struct {
	Step       string
	Status     int
	Reason     string
	RetryAfter *string
	Body       map[string]any
}

// TestPythonClient points Google's own Python client, built from the
// discovery document, at the emulator: what it sees (statuses, the reason
// it extracts from error bodies, headers) must be what it would see from
// Google. It skips when the client is not installed.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	py := python()
	if py == "" {
		t.Skip("no python3 with googleapiclient and httplib2 (Debian: apt-get install python3-googleapi); the Python client check is skipped")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "google.golang.org/api").Output()
	if err != nil {
		t.Fatalf("locating google.golang.org/api: %v", err)
	}
	docPath := filepath.Join(strings.TrimSpace(string(out)), "chat", "v1", "chat-api.json")
	srv, _, ts := start(t, WithCreationLimit(4, 0), WithAdmins(DefaultCaller), WithSpaceWriteRate(0))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "pyclient.py"), docPath, ts.URL+"/")
	// Loopback only: no proxy may carry the calls.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NO_PROXY=*", "no_proxy=*")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s pyclient.py: %v\n%s", py, err, stderr.String())
	}
	steps := map[string]pyStep{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		var s pyStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("pyclient.py printed %q: %v", sc.Text(), err)
		}
		steps[s.Step] = s
	}
	errorOf := func(s pyStep) map[string]any {
		e, _ := s.Body["error"].(map[string]any)
		return e
	}
	resultsOf := func(s pyStep) []any {
		r, _ := s.Body["results"].([]any)
		return r
	}

	create, replay := steps["create"], steps["replay"]
	name, _ := create.Body["name"].(string)
	if create.Status != 200 || !strings.HasPrefix(name, "spaces/AAAA") || create.Body["spaceUri"] == nil {
		t.Errorf("create: %+v, want 200 with a name and a spaceUri", create)
	}
	if replay.Status != 200 || replay.Body["name"] != name || replay.Body["spaceUri"] != nil {
		t.Errorf("replay: %+v, want 200 echoing the request with name %s and no spaceUri", replay, name)
	}
	if s := steps["conflict"]; s.Status != 409 || errorOf(s)["status"] != "ALREADY_EXISTS" || !strings.Contains(s.Reason, "already exists") {
		t.Errorf("conflict: %+v, want 409 ALREADY_EXISTS with the message as reason", s)
	}
	if s := steps["unknown fields"]; s.Status != 400 || !strings.Contains(s.Reason, `Unknown name "colour"`) || !strings.Contains(s.Reason, `Unknown name "size"`) {
		t.Errorf("unknown fields: %+v, want 400 naming both fields", s)
	}
	throttled := steps["throttled"]
	if throttled.Status != 429 || throttled.RetryAfter != nil || errorOf(throttled)["status"] != "RESOURCE_EXHAUSTED" ||
		!strings.HasPrefix(throttled.Reason, "Quota exceeded for quota metric 'Space creation requests'") {
		t.Errorf("throttled: %+v, want 429 RESOURCE_EXHAUSTED, no Retry-After, Google's quota message as reason", throttled)
	}
	if details, _ := errorOf(throttled)["details"].([]any); len(details) != 2 {
		t.Errorf("throttled details = %v, want ErrorInfo and Help", details)
	}
	if s := steps["patch"]; s.Status != 200 || s.Body["spaceDetails"] == nil {
		t.Errorf("patch: %+v, want 200 with the details", s)
	}
	if s := steps["message"]; s.Status != 200 || s.Body["clientAssignedMessageId"] != "client-py" {
		t.Errorf("message: %+v, want 200 with the client-assigned id", s)
	}
	if s := steps["promote"]; s.Status != 200 || s.Body["role"] != "ROLE_ASSISTANT_MANAGER" {
		t.Errorf("promote: %+v, want 200 ROLE_ASSISTANT_MANAGER", s)
	}
	if s := steps["search"]; s.Status != 200 || s.Body["totalSize"] != float64(1) {
		t.Errorf("search: %+v, want one space", s)
	}
	// spaceType and displayName, as the reference's examples and GAM7
	// write them, and GAM7's orderBy createTime.
	if s := steps["search camelCase"]; s.Status != 200 || s.Body["totalSize"] != float64(1) {
		t.Errorf("search camelCase: %+v, want one space", s)
	}
	if s := steps["search as a member"]; s.Status != 200 || len(resultsOf(s)) != 1 {
		t.Errorf("search as a member: %+v, want one result", s)
	}
	// The patched space, with every permission setting it has: the one
	// patched as sent, the others as they were; a get shows the same.
	patched := steps["patch permission"]
	perms, _ := patched.Body["permissionSettings"].(map[string]any)
	apps, _ := perms["manageApps"].(map[string]any)
	if patched.Status != 200 || apps["managersAllowed"] != true || apps["assistantManagersAllowed"] == true || len(perms) < 8 {
		t.Errorf("patch permission: %+v, want 200 with manageApps for owners only among all the settings", patched)
	}
	for _, k := range []string{"manageMembersAndGroups", "modifySpaceDetails", "toggleHistory", "useAtMentionAll", "manageWebhooks", "replyMessages", "postMessages"} {
		if _, ok := perms[k]; !ok {
			t.Errorf("patch permission: no %s in %v", k, perms)
		}
	}
	if g := steps["get"]; g.Status != 200 || fmt.Sprint(g.Body["permissionSettings"]) != fmt.Sprint(perms) {
		t.Errorf("get after the patch: %v, want the patch's %v", g.Body["permissionSettings"], perms)
	}
	if len(steps) != 14 {
		t.Errorf("pyclient.py reported %d steps, want 14:\n%s", len(steps), stdout)
	}
	if st := srv.Stats(); st.SpacesCreated != 1 || st.Replays != 1 || st.MessagesCreated != 1 {
		t.Errorf("stats: %d spaces, %d replays, %d messages; want 1 each", st.SpacesCreated, st.Replays, st.MessagesCreated)
	}
}
