package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"provision/internal/chatemu"
)

type emuKey struct{}

var updateScripts = flag.Bool("update", false, "rewrite the files that scripts compare with cmp to what they got")

// TestScript runs the sessions under testdata/script. Each script has its
// own emulator, quotas off, at $EMU, and these commands besides provision:
//
//	emu spaces N   the emulator holds N spaces, none a duplicate
//	emu add NAME   a space named NAME exists already, made outside provision
//	emu hide NAME  someone else owns a space named NAME, invisible to us
//	emu foreign NAME ROLE
//	               someone else owns a space named NAME, in which we are
//	               ROLE: none, member, manager or owner
//	json FILE      FILE (or stdout) is exactly one JSON document
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(e *testscript.Env) error {
			emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0))
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
			"emu":  cmdEmu,
			"json": cmdJSON,
		},
	})
}

func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emu")
	}
	emu := ts.Value(emuKey{}).(*chatemu.Server)
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
