package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// symbols are the plan's action markers, in the style of terraform plan.
var symbols = map[Action]string{
	Create: "+ create",
	Update: "~ update",
	Exists: "= exists",
	Retry:  "! retry ",
	Orphan: "- orphan",
}

// WriteText prints the plan for a person: one line per space, then a
// summary line.
func WriteText(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	for _, it := range p.Items {
		sym, ok := symbols[it.Action]
		if !ok {
			sym = "? " + string(it.Action)
		}
		fmt.Fprintf(bw, "  %s %q", sym, it.Key)
		if d := detail(it); d != "" {
			fmt.Fprintf(bw, " (%s)", d)
		}
		bw.WriteByte('\n')
	}
	c := p.Counts()
	if len(p.Items) > 0 {
		bw.WriteByte('\n')
	}
	fmt.Fprintf(bw, "Plan: %d to create, %d to update, %d to retry, %d unchanged, %d orphaned.\n",
		c.Create, c.Update, c.Retry, c.Unchanged, c.Orphan)
	if !c.Changes() {
		fmt.Fprintln(bw, "No changes: every space in the config is already present.")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// detail is what a line says in parentheses after the name.
func detail(it Item) string {
	var d string
	if it.RecordedKey != "" {
		d = fmt.Sprintf("recorded as %q; ", it.RecordedKey)
	}
	switch it.Action {
	case Create:
		if it.Recreate {
			if it.PreviousName != "" {
				d += fmt.Sprintf("recorded as %s but deleted since; ", it.PreviousName)
			} else {
				d += "recorded but deleted since; "
			}
		}
		d += plural(len(it.AddMembers), "member") + ", " + plural(len(it.AddManagers), "manager")
	case Retry:
		d += plural(len(it.AddMembers), "member") + ", " + plural(len(it.AddManagers), "manager")
	case Update:
		switch m, g := len(it.AddMembers), len(it.AddManagers); {
		case m > 0 && g > 0:
			d += "+" + plural(m, "member") + ", +" + plural(g, "manager")
		case m > 0:
			d += "+" + plural(m, "member")
		default:
			d += "+" + plural(g, "manager")
		}
	case Orphan:
		if it.Name != "" {
			d += it.Name + ", "
		}
		d += "not in the config; left untouched"
	}
	if len(d) >= 2 && d[len(d)-2:] == "; " {
		d = d[:len(d)-2]
	}
	return d
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// jsonPlan is the --json form of a plan; its field names are part of the
// command's interface.
type jsonPlan struct {
	File    string      `json:"file"`
	Summary jsonSummary `json:"summary"`
	Spaces  []jsonItem  `json:"spaces"`
}

type jsonSummary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Retry     int `json:"retry"`
	Unchanged int `json:"unchanged"`
	Orphan    int `json:"orphan"`
}

type jsonItem struct {
	Action       Action   `json:"action"`
	DisplayName  string   `json:"displayName"`
	RecordedKey  string   `json:"recordedKey,omitempty"`
	Name         string   `json:"name,omitempty"`
	PreviousName string   `json:"previousName,omitempty"`
	RequestID    string   `json:"requestId,omitempty"`
	Members      int      `json:"members"`
	Managers     int      `json:"managers"`
	AddMembers   []string `json:"addMembers,omitempty"`
	AddManagers  []string `json:"addManagers,omitempty"`
	Recreate     bool     `json:"recreate,omitempty"`
}

// WriteJSON prints the plan as one JSON document, items in plan order.
func WriteJSON(w io.Writer, p *Plan) error {
	c := p.Counts()
	out := jsonPlan{
		File:    p.File,
		Summary: jsonSummary(c),
		Spaces:  make([]jsonItem, 0, len(p.Items)),
	}
	for _, it := range p.Items {
		out.Spaces = append(out.Spaces, jsonItem{
			Action:       it.Action,
			DisplayName:  it.Key,
			RecordedKey:  it.RecordedKey,
			Name:         it.Name,
			PreviousName: it.PreviousName,
			RequestID:    it.RequestID,
			Members:      len(it.Space.Members),
			Managers:     len(it.Space.Managers),
			AddMembers:   it.AddMembers,
			AddManagers:  it.AddManagers,
			Recreate:     it.Recreate,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing plan as JSON: %w", err)
	}
	return nil
}
