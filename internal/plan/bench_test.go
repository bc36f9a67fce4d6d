package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// generate returns a config of n spaces with defaults, five members and a
// manager each: the shape of a large onboarding file.
func generate(n int) []byte {
	var b strings.Builder
	b.WriteString("defaults:\n  description: \"Onboarding cohort space.\"\n  history: on\n  permissions: collaboration\n  members: [lead@example.com]\n  managers: [boss@example.com]\nspaces:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - displayName: \"Onboarding 2026-Q1: Team %06d\"\n", i)
		b.WriteString("    members:\n")
		for j := range 5 {
			fmt.Fprintf(&b, "      - user%d.%d@example.com\n", i, j)
		}
		b.WriteString("      - groups/cohort\n")
		fmt.Fprintf(&b, "    managers: [user%d.0@example.com]\n", i)
	}
	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("spaces=%d", n), func(b *testing.B) {
			data := generate(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("bench.yaml", data, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("spaces=%d", n), func(b *testing.B) {
			cfg, err := Parse("bench.yaml", generate(n), Options{})
			if err != nil {
				b.Fatal(err)
			}
			// Half the spaces were created before, with all but the
			// last member; a tenth of those failed; some orphans.
			recorded := make(map[string]Recorded, n/2+n/10)
			for i, s := range cfg.Spaces[:n/2] {
				status := "created"
				if i%10 == 0 {
					status = "failed"
				}
				recorded[s.DisplayName] = Recorded{Status: status, Name: "spaces/X", RequestID: "r",
					Members: s.Members[:len(s.Members)-1], Managers: s.Managers}
			}
			for i := range n / 10 {
				recorded[fmt.Sprintf("Retired %d", i)] = Recorded{Status: "created"}
			}
			b.ReportAllocs()
			for b.Loop() {
				if p := Diff(cfg, recorded); len(p.Items) != n+n/10 {
					b.Fatalf("Diff: %d items, want %d", len(p.Items), n+n/10)
				}
			}
		})
	}
}

// BenchmarkDiffConverge plans every new kind of change at scale: settings
// recorded (a third of descriptions edited), a refresh that read every
// space and its members (one member removed in the Chat UI, one added),
// --prune-members and --prune over orphans. It shows the comparison of
// settings and live members linear in spaces and members.
func BenchmarkDiffConverge(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("spaces=%d", n), func(b *testing.B) {
			cfg, err := Parse("bench.yaml", generate(n), Options{})
			if err != nil {
				b.Fatal(err)
			}
			cfg.PruneMembers, cfg.Prune = true, true
			cfg.MaxDeletions, cfg.MaxRemovals = n, 2*n
			recorded := make(map[string]Recorded, n+n/10)
			for i, s := range cfg.Spaces {
				live := map[string]string{}
				for k, v := range s.Settings.All() {
					live[k] = v
				}
				if i%3 == 0 {
					live[SetDescription] = "edited in Chat"
				}
				members := append(slices.Clone(s.Members[1:]), fmt.Sprintf("users/extra%d@example.com", i))
				recorded[s.DisplayName] = Recorded{Status: "created", Name: "spaces/X", RequestID: "r",
					Members: s.Members, Managers: s.Managers, Settings: s.Settings,
					Live: &Live{Settings: live, MembersRead: true, Members: members,
						Roles: map[string]Role{s.Managers[0]: RoleManager}}}
			}
			for i := range n / 10 {
				recorded[fmt.Sprintf("Retired %d", i)] = Recorded{Status: "created", Name: "spaces/R"}
			}
			b.ReportAllocs()
			for b.Loop() {
				p := Diff(cfg, recorded)
				if c := p.Counts(); c.Update != n || c.Delete != n/10 {
					b.Fatalf("Diff: %+v, want %d to update, %d to delete", c, n, n/10)
				}
			}
		})
	}
}

// BenchmarkParseSyntaxError is the time to report a syntax error at the end
// of a file of n spaces (37,500 spaces: about 5 MB, 157,000 lines).
func BenchmarkParseSyntaxError(b *testing.B) {
	for _, n := range []int{2000, 25_000, 37_500} {
		b.Run(fmt.Sprintf("spaces=%d", n), func(b *testing.B) {
			lines, _ := corpusBase(n)
			data := []byte(strings.Join(lines, "\n") + "\n  - displayName: \"last\n")
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("bench.yaml", data, Options{}); err == nil {
					b.Fatal("Parse: no error")
				}
			}
		})
	}
}
