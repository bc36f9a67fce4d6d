package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"provision/internal/chatemu"
)

type emuKey struct{}

var updateScripts = flag.Bool("update", false, "rewrite the files that scripts compare with cmp to what they got")

// TestScript runs the sessions under testdata/script. Each script has its
// own emulator, quotas off, at $EMU, and these commands besides provision:
//
// Cloud Identity's groups.lookup there knows eng@example.com (groups/03x9eng).
//
//	emu spaces N   the emulator holds N spaces, none a duplicate
//	emu messages N the emulator holds N messages
//	emu writes N   the emulator was sent N write calls (creates, patches,
//	               deletes of spaces and members, messages), whatever
//	               their answers
//	emu add NAME   a space named NAME exists already, made outside provision
//	emu hide NAME  someone else owns a space named NAME, invisible to us
//	emu foreign NAME ROLE
//	               someone else owns a space named NAME, in which we are
//	               ROLE: none, member, manager or owner
//	emu edit NAME TEXT
//	               someone sets NAME's description to TEXT in the Chat UI
//	emu remove NAME EMAIL
//	               someone removes EMAIL from NAME in the Chat UI
//	emu description NAME TEXT
//	               NAME's description is TEXT
//	[!] emu member NAME EMAIL
//	               EMAIL (or groups/ID) is (not) a member of NAME
//	emu join NAME EMAIL ROLE
//	               someone makes EMAIL a ROLE (member, manager, owner) of
//	               NAME in the Chat UI
//	emu rename NAME NEW
//	               someone renames NAME to NEW in the Chat UI
//	emu strangers 403|404
//	               what the API answers a caller not in a space
//	emu recorded FILE KEY NAME
//	               the space results FILE records under KEY is named NAME
//	emu group EMAIL ID
//	               the group EMAIL was deleted and made again: Cloud
//	               Identity now knows it as groups/ID
//	json FILE      FILE (or stdout) is exactly one JSON document
//	jsonlines FILE every line of FILE (or stderr) is one JSON object with
//	               Cloud Logging's severity, a message and a time, and
//	               no escape sequence or carriage return
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(e *testscript.Env) error {
			// The caller is also an administrator, for --admin; without
			// --admin no call asks for administrator access.
			emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
				chatemu.WithAdmins(chatemu.DefaultCaller),
				chatemu.WithGroups(map[string]string{"eng@example.com": "groups/03x9eng"}))
			srv := httptest.NewServer(emu)
			e.Defer(srv.Close)
			e.Setenv("EMU", srv.URL)
			// A race-enabled binary sleeps a second before a clean exit
			// by default; provision is the test binary, so it would too.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			e.Values[emuKey{}] = emu
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu":       cmdEmu,
			"json":      cmdJSON,
			"jsonlines": cmdJSONLines,
		},
	})
}

func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	emu := ts.Value(emuKey{}).(*chatemu.Server)
	space := func(display string) string {
		for _, sp := range emu.Spaces() {
			if sp.DisplayName == display {
				return sp.Name
			}
		}
		ts.Fatalf("emulator has no space %q", display)
		return ""
	}
	if len(args) == 3 && args[0] == "member" {
		found := false
		for _, m := range emu.Members(space(args[1])) {
			found = found || strings.EqualFold(m.Email, args[2]) || m.Group == args[2]
		}
		if found == neg {
			ts.Fatalf("%s a member of %q: %v", args[2], args[1], found)
		}
		return
	}
	if neg {
		ts.Fatalf("unsupported: ! emu %s", args[0])
	}
	if len(args) == 3 {
		switch args[0] {
		case "edit":
			name := space(args[1])
			sp, _ := emu.Space(name)
			guidelines := ""
			if sp.SpaceDetails != nil {
				guidelines = sp.SpaceDetails.Guidelines
			}
			emu.EditSpace(name, args[2], guidelines)
			return
		case "rename":
			if !emu.RenameSpace(space(args[1]), args[2]) {
				ts.Fatalf("emu rename %q %q: not renamed", args[1], args[2])
			}
			return
		case "remove":
			if !emu.RemoveMember(space(args[1]), args[2]) {
				ts.Fatalf("%s is not a member of %q", args[2], args[1])
			}
			return
		case "group":
			emu.SetGroup(args[1], args[2])
			return
		case "description":
			sp, _ := emu.Space(space(args[1]))
			got := ""
			if sp.SpaceDetails != nil {
				got = sp.SpaceDetails.Description
			}
			if got != args[2] {
				ts.Fatalf("description of %q is %q, want %q", args[1], got, args[2])
			}
			return
		}
	}
	if len(args) == 4 && args[0] == "join" {
		role, ok := map[string]string{"member": "ROLE_MEMBER", "manager": "ROLE_ASSISTANT_MANAGER", "owner": "ROLE_MANAGER"}[args[3]]
		if !ok || !emu.AddMember(space(args[1]), args[2], role) {
			ts.Fatalf("emu join %s %s %s: not added", args[1], args[2], args[3])
		}
		return
	}
	if len(args) == 4 && args[0] == "recorded" {
		var f struct {
			Spaces map[string]struct{ Name string }
		}
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &f))
		name := f.Spaces[args[2]].Name
		sp, ok := emu.Space(name)
		if !ok || sp.DisplayName != args[3] {
			ts.Fatalf("%s records %q as %q, which the emulator has: %v (%+v); want it named %q", args[1], args[2], name, ok, sp, args[3])
		}
		return
	}
	if len(args) == 3 && args[0] == "foreign" {
		role, ok := map[string]string{"none": "", "member": "ROLE_MEMBER", "manager": "ROLE_ASSISTANT_MANAGER", "owner": "ROLE_MANAGER"}[args[2]]
		if !ok {
			ts.Fatalf("emu foreign: unknown role %q", args[2])
		}
		emu.AddForeignSpace(args[1], "users/someone.else@example.com", role)
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: emu spaces N | emu add NAME | emu hide NAME | emu foreign NAME ROLE | emu delete NAME")
	}
	switch args[0] {
	case "writes":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		got := 0
		for method, byCode := range emu.Stats().Calls {
			switch method {
			case "spaces.create", "spaces.setup", "spaces.patch", "spaces.delete", "members.create", "members.patch", "members.delete", "spaces.messages.create":
				for _, n := range byCode {
					got += n
				}
			}
		}
		if got != want {
			ts.Fatalf("emulator was sent %d write calls, want %d (%v)", got, want, emu.Stats().Calls)
		}
	case "messages":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if got := emu.Stats().MessagesCreated; got != want {
			ts.Fatalf("emulator has %d messages, want %d", got, want)
		}
	case "spaces":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		st := emu.Stats()
		if st.Spaces != want || st.Duplicates != 0 {
			ts.Fatalf("emulator has %d spaces (%d duplicates), want %d (0 duplicates)", st.Spaces, st.Duplicates, want)
		}
	case "add":
		_, err := emu.AddSpace(args[1])
		ts.Check(err)
	case "hide":
		_, err := emu.AddHiddenSpace(args[1])
		ts.Check(err)
	case "strangers":
		emu.SetNotFoundForNonMembers(args[1] == "404")
	case "delete":
		// As if someone removed the space since the last run.
		for _, sp := range emu.Spaces() {
			if sp.DisplayName == args[1] && emu.DeleteSpace(sp.Name) {
				return
			}
		}
		ts.Fatalf("emulator has no space %q to delete", args[1])
	default:
		ts.Fatalf("unknown emu command %q", args[0])
	}
}

func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: json FILE")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile(args[0])))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if err = dec.Decode(&v); errors.Is(err, io.EOF) {
			err = nil
		} else {
			err = errors.New("more than one JSON document")
		}
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("%s is one JSON document", args[0])
	case !neg && err != nil:
		ts.Fatalf("%s is not one JSON document: %v", args[0], err)
	}
}

func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: jsonlines FILE")
	}
	text := ts.ReadFile(args[0])
	if text == "" {
		ts.Fatalf("%s is empty", args[0])
	}
	if strings.ContainsAny(text, "\x1b\r") {
		ts.Fatalf("%s holds an escape sequence or a carriage return", args[0])
	}
	severities := []string{"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			ts.Fatalf("%s line %d is not a JSON object: %v\n%s", args[0], i+1, err, line)
		}
		sev, _ := v["severity"].(string)
		msg, _ := v["message"].(string)
		at, _ := v["time"].(string)
		if !slices.Contains(severities, sev) || msg == "" {
			ts.Fatalf("%s line %d has no Cloud Logging severity and message: %s", args[0], i+1, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
			ts.Fatalf("%s line %d has no RFC 3339 time: %s", args[0], i+1, line)
		}
	}
}
