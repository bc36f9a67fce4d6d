package plan

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, never hangs, and keeps its
// contract: either a valid config or a non-empty, sorted list of problems.
// Its seed corpus lives in testdata/fuzz/FuzzParse, so plain go test runs it.
func FuzzParse(f *testing.F) {
	f.Add([]byte("spaces:\n  - displayName: a\n"))
	f.Add([]byte("defaults:\n  permissions: {preset: announcement, manageApps: owners}\nspaces:\n  - displayName: a\n    permissions:\n      replyMessages: Members\n      manageApp: x\n"))
	// The example as it is now, beside the copy in the corpus.
	if data, err := os.ReadFile("../../spaces.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{{}, {App: true}} {
			cfg, err := parseWithin(t, data, opts, 10*time.Second)
			if err != nil {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) == 0 {
					t.Fatalf("Parse(%q) error = %#v, want non-empty Problems", data, err)
				}
				if cfg != nil {
					t.Fatalf("Parse(%q) returned a config and problems", data)
				}
				// Every problem has its position, inside the file; a
				// syntax error may have its line alone, when neither
				// the parser nor the lexer can say more.
				lines, _ := position(data, len(data))
				for _, p := range ps {
					syntax := strings.HasPrefix(p.Msg, "invalid YAML: ")
					if p.Line < 1 || p.Col < 1 && !(syntax && p.Col == 0) || p.Line > lines {
						t.Fatalf("Parse(%q) problem without a position in the file's %d lines: %v", data, lines, p)
					}
				}
				if !slices.IsSortedFunc(ps, func(a, b Problem) int {
					if a.Line != b.Line {
						return a.Line - b.Line
					}
					return a.Col - b.Col
				}) {
					t.Fatalf("Parse(%q) problems not sorted: %v", data, ps)
				}
				continue
			}
			if len(cfg.Spaces) == 0 {
				t.Fatalf("Parse(%q) = a config without spaces, no error", data)
			}
			seen := map[Key]bool{}
			for _, s := range cfg.Spaces {
				n := utf8.RuneCountInString(s.DisplayName)
				if n == 0 || n > MaxDisplayName || seen[KeyOf(s.DisplayName)] {
					t.Fatalf("Parse(%q) accepted display name %q", data, s.DisplayName)
				}
				seen[KeyOf(s.DisplayName)] = true
				if KeyOf(s.Key) != KeyOf(s.DisplayName) {
					if seen[KeyOf(s.Key)] {
						t.Fatalf("Parse(%q) accepted key %q of %q, another space's identity", data, s.Key, s.DisplayName)
					}
					seen[KeyOf(s.Key)] = true
				}
				if why := nameProblem(s.DisplayName); why != "" {
					t.Fatalf("Parse(%q) accepted display name %q, which %s", data, s.DisplayName, why)
				}
				for _, m := range s.Members {
					if !acceptableMember(m) {
						t.Fatalf("Parse(%q) accepted member %q of %q", data, m, s.DisplayName)
					}
				}
				if a := s.Audience; a != "" && a != "default" && !acceptableID(strings.TrimPrefix(a, "audiences/")) {
					t.Fatalf("Parse(%q) accepted audience %q", data, a)
				}
				for _, m := range slices.Concat(s.Owners, s.Managers) {
					if !slices.Contains(s.Members, m) {
						t.Fatalf("Parse(%q): owner or manager %q of %q is not a member", data, m, s.DisplayName)
					}
					if strings.HasPrefix(m, "groups/") || strings.HasPrefix(m, GroupPrefix) {
						t.Fatalf("Parse(%q): group %q of %q given a role", data, m, s.DisplayName)
					}
				}
				for _, m := range s.Owners {
					if slices.Contains(s.Managers, m) {
						t.Fatalf("Parse(%q): %q of %q is both an owner and a manager", data, m, s.DisplayName)
					}
				}
			}
		}
	})
}

// acceptableMember is the contract for a member Parse accepts, written
// apart from the code that enforces it: users/EMAIL or group:EMAIL,
// lower-cased, with an @ and a dotted domain; or users/ID or groups/ID of letters, digits, "-",
// "_" and ".", not "." or "..", and not the calling app.
func acceptableMember(m string) bool {
	email, ok := strings.CutPrefix(m, "users/")
	if !ok || !strings.Contains(email, "@") {
		email, ok = strings.CutPrefix(m, GroupPrefix)
	}
	if ok && strings.Contains(email, "@") {
		local, domain, _ := strings.Cut(email, "@")
		return email == strings.ToLower(email) && local != "" && strings.Contains(domain, ".") &&
			!strings.ContainsFunc(email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	}
	for _, prefix := range []string{"users/", "groups/"} {
		if id, ok := strings.CutPrefix(m, prefix); ok {
			return acceptableID(id) && !(prefix == "users/" && strings.EqualFold(id, "app"))
		}
	}
	return false
}

func acceptableID(id string) bool {
	if id == "" || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

// parseWithin runs Parse and fails the test if it has not returned within
// limit: a guard against hangs, far above any normal run.
func parseWithin(t *testing.T, data []byte, opts Options, limit time.Duration) (*Config, error) {
	t.Helper()
	type result struct {
		cfg *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := Parse("f.yaml", data, opts)
		done <- result{cfg, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-timer.C:
		t.Fatalf("Parse(%q) did not return within %v", data, limit)
		return nil, nil
	}
}
