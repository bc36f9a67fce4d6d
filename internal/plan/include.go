// include: the CSV files a YAML config takes its spaces from, besides its
// own, with its defaults applied to them.

package plan

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// where names the place a name was first met for a message about a second
// use of it: "line N" in the same file, "FILE:LINE:COL" in another.
func (p *parser) where(first identity) string {
	if first.file == p.file {
		return "line " + strconv.Itoa(first.line)
	}
	return first.file + ":" + strconv.Itoa(first.line) + ":" + strconv.Itoa(first.col)
}

// includes reads the CSV files listed under include: (paths relative to the
// config's directory, which they may not leave) and adds their rows as
// spaces, defaults applied, each file's problems under its own name. A
// name used in two files, or in a file and the config, is reported with
// both places.
func (p *parser) includes(n *yaml.Node, defaults *settings, seen map[Key]identity) {
	if n = p.resolve(n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode && !isNull(n) {
		p.add(n, "include must be a list of CSV files, not %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		p.add(n, "include is empty: list the CSV files whose rows are spaces, or leave it out")
		return
	}
	dir := filepath.Dir(p.file)
	done := make(map[string]int)
	for _, item := range n.Content {
		item = p.resolve(item)
		if item == nil {
			return
		}
		if item.Kind != yaml.ScalarNode || isNull(item) || strings.TrimSpace(item.Value) == "" {
			p.add(item, "each of include must be the path of a CSV file, not %s", describe(item))
			continue
		}
		path := strings.TrimSpace(item.Value)
		clean := filepath.Clean(filepath.FromSlash(path))
		switch {
		case !IsCSV(path):
			p.add(item, "include %s: only CSV files (.csv) can be included", quote(path))
			continue
		case filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)):
			p.add(item, "include %s: the path must be relative to the config's directory, and stay in it", quote(path))
			continue
		case p.opts.Include == nil:
			p.add(item, "include %s: this config cannot include files here", quote(path))
			continue
		}
		full := filepath.Join(dir, clean)
		if line, dup := done[full]; dup {
			p.add(item, "include %s is listed twice (first at line %d)", quote(path), line)
			continue
		}
		done[full] = item.Line
		data, err := p.opts.Include(full)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				p.add(item, "include %s: no such file (%s)", quote(path), full)
			} else {
				p.add(item, "include %s: %v", quote(path), err)
			}
			continue
		}
		config := p.file
		p.file = full
		for _, row := range p.csvRows(data) {
			p.space(row, defaults, seen)
		}
		p.file = config
	}
}
