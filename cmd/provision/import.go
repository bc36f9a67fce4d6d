// provision import FILE: a config and its results file written from the
// spaces that exist already, so that they are managed from then on.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	cloudidentity "google.golang.org/api/cloudidentity/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/auth"
	"provision/internal/plan"
	"provision/internal/results"
)

// checkImport checks the flags of provision import (and that --query is
// given to it alone).
func (o *options) checkImport() error {
	if !o.importing {
		if o.query != "" {
			return errors.New("--query is for provision import")
		}
		return nil
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"--plan", o.plan}, {"--json", o.json}, {"--refresh", o.refresh}, {"--adopt", o.adopt}, {"--prune", o.prune},
		{"--prune-members", o.pruneMembers}, {"--export", o.export != ""}, {"--metrics", o.metrics != ""}} {
		if f.set {
			return fmt.Errorf("%s is not for provision import, which only reads the spaces and writes a new config", f.name)
		}
	}
	switch ext := strings.ToLower(filepath.Ext(o.config)); {
	case ext != ".yaml" && ext != ".yml":
		return fmt.Errorf("provision import %q: the file written is a YAML config; name it .yaml or .yml", o.config)
	case o.auth == string(auth.App):
		return errors.New("provision import reads a person's spaces and roles; a Chat app (--auth app) has neither")
	case strings.ContainsFunc(o.query, func(r rune) bool { return r < ' ' || r == '"' || r == '\\' || r == 0x7f }):
		return fmt.Errorf("--query %q: only words, without quotes, backslashes or control characters", o.query)
	case len(o.query) > 200:
		return fmt.Errorf("--query is %d bytes; at most 200", len(o.query))
	}
	return nil
}

// importSpaces reads the caller's named spaces (with --admin, the
// organization's) and writes o.config and o.results from them. Neither may
// exist: an import never overwrites a config or a state. Nothing is
// written unless everything was read and the config reads back.
func (e *env) importSpaces(ctx context.Context, o *options) error {
	for _, f := range []struct{ path, what string }{
		{o.config, "the config"},
		{o.results, "the results file"},
		{o.results + ".journal", "the results file's journal"},
	} {
		switch _, err := os.Lstat(f.path); {
		case err == nil:
			return usagef("%s %q exists: provision import never overwrites a file; give it a name that is not taken (or move the file away)", f.what, f.path)
		case !errors.Is(err, fs.ErrNotExist):
			return usagef("%s %q: %w", f.what, f.path, err)
		}
		if fi, err := os.Stat(filepath.Dir(f.path)); err != nil || !fi.IsDir() {
			return usagef("%s %q: its directory does not exist", f.what, f.path)
		}
	}
	start := time.Now()
	log := e.logger(o)
	log.Debug("provision import", "version", readBuildInfo().String())
	// Reads, and only reads: the scopes of --plan --refresh.
	ro := *o
	ro.plan, ro.refresh = true, true
	creds, svc, err := e.connect(ctx, &ro, &plan.Config{}, log)
	if err != nil {
		return err
	}
	// Groups by their emails, where Cloud Identity may be asked: the
	// credentials go there too, so as for a run, never to a host they
	// may not be sent to; else by their IDs.
	check := e.authConfig(o, &plan.Config{}, nil, nil)
	check.Endpoint = o.groupsEndpoint
	if err := auth.Check(check); err != nil {
		fmt.Fprintf(e.stderr, "groups are written as groups/ID, not by email: --groups-endpoint: %v\n", err)
	} else if e.groups, err = cloudidentity.NewService(ctx, option.WithEndpoint(o.groupsEndpoint), option.WithHTTPClient(creds.HTTPClient)); err != nil {
		return usagef("setting up the Cloud Identity client: %w", err)
	}
	opts := e.options(o, creds, log)
	if !o.admin && !strings.Contains(opts.Caller, "@") {
		return usagef("provision import needs to know who you are, to tell the spaces you own or manage from those you only joined: pass --caller YOUR_EMAIL")
	}
	var done, total atomic.Int64
	stopTicking := e.tickReads(opts.Reads, func() string {
		return fmt.Sprintf("import: %d/%d spaces read", done.Load(), total.Load())
	})
	got, err := apply.Import(ctx, svc, o.query, opts, func(n, t int) { done.Store(int64(n)); total.Store(int64(t)) })
	stopTicking()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "provision: interrupted while reading the spaces; nothing was written")
			return errInterrupted
		}
		return e.stoppedReading(err, creds)
	}
	spaces, entries, skipped := imported(got.Spaces, opts.Caller, o.admin)
	for name, display := range got.Gone {
		skipped = append(skipped, fmt.Sprintf("skipped %q (%s): listed, then answered 404 or 403 when read (deleted, or you were removed from it, meanwhile)", display, name))
	}
	slices.Sort(skipped)
	for _, s := range skipped {
		fmt.Fprintln(e.stderr, s)
	}
	if len(spaces) == 0 {
		fmt.Fprintf(e.stderr, "provision: no space to import (%d read, %d skipped); nothing was written\n", len(got.Spaces), len(skipped))
		return errFailed{}
	}
	source := fmt.Sprintf("the named spaces of %s (spaces.list)", strings.TrimPrefix(opts.Caller, "users/"))
	if o.admin {
		source = fmt.Sprintf("the named spaces of %s, by an administrator's search (spaces.search)", o.customer)
	}
	if o.query != "" {
		source += fmt.Sprintf(", names matching %q", o.query)
	}
	header := fmt.Sprintf("Imported by provision import on %s\nfrom %s at %s.\n"+
		"Each space is adopt: true and recorded as existing in %s, so --prune never\n"+
		"deletes one. Edit this file and run provision on it to apply the changes.",
		time.Now().UTC().Format(time.RFC3339), source, auth.RedactURL(o.endpoint), filepath.Base(o.results))
	data, err := plan.MarshalConfig(header, spaces)
	if err != nil {
		return fmt.Errorf("writing the config: %w", err)
	}
	// The file must read back to the spaces it was written from, or it
	// is not written at all.
	cfg, err := plan.Parse(o.config, data, plan.Options{})
	if err != nil {
		return fmt.Errorf("the config made from the spaces does not read back; nothing was written:\n%w", err)
	}
	if len(cfg.Spaces) != len(spaces) {
		return fmt.Errorf("the config made from %d spaces reads back as %d; nothing was written", len(spaces), len(cfg.Spaces))
	}
	if err := writeNew(o.config, data); err != nil {
		return usagef("writing %q: %w", o.config, err)
	}
	store, err := results.Open(o.results)
	if err == nil {
		for i := range entries {
			if err = store.Record(results.Event{Space: spaces[i].DisplayName, Entry: &entries[i]}); err != nil {
				break
			}
		}
		if cerr := store.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "provision: %s was written, but not its results file %s: %v. Its spaces are adopt: true, so a run adopts each (its create is answered ALREADY_EXISTS; nothing is created); or remove %s and import again\n",
			o.config, o.results, err, o.config)
		return errFailed{}
	}
	fmt.Fprintf(e.stdout, "Imported: %s into %s, recorded as existing in %s; %d skipped; %d reads in %s.\n",
		count(len(spaces), "space", "spaces"), o.config, o.results, len(skipped), got.Reads, time.Since(start).Round(time.Millisecond))
	return nil
}

// imported turns the spaces read into the config's spaces and the results
// file's entries (same order, same keys), and says which were skipped and
// why: without --admin, a space in which the caller is only a member
// (which it could not manage), and a second space of a name already
// imported (names equal but for case, Unicode form or white space are one
// space to the config).
func imported(found []apply.Found, caller string, admin bool) ([]plan.Written, []results.Entry, []string) {
	var spaces []plan.Written
	var entries []results.Entry
	var skipped []string
	first := make(map[plan.Key]string)
	for _, f := range found {
		if !admin && f.CallerRole != plan.RoleOwner && f.CallerRole != plan.RoleManager {
			skipped = append(skipped, fmt.Sprintf("skipped %q (%s): you are only a member of it, not its owner or manager, so it could not be managed here", f.DisplayName, f.Name))
			continue
		}
		name := plan.Text(f.DisplayName)
		k := plan.KeyOf(name)
		if other, dup := first[k]; dup {
			skipped = append(skipped, fmt.Sprintf("skipped %q (%s): %s has the same name, and a config names each space once; rename one in Chat and import again", f.DisplayName, f.Name, other))
			continue
		}
		first[k] = f.Name
		w := plan.Written{DisplayName: name, Settings: map[string]string{}, Adopt: true}
		for _, s := range []string{plan.SetDescription, plan.SetGuidelines, plan.SetHistory, plan.SetAudience} {
			if v := f.Settings[s]; v != "" {
				w.Settings[s] = v
			}
		}
		for _, p := range plan.PermissionKeys {
			if v := f.Settings[plan.SetPermissionPrefix+p]; v != "" {
				w.Settings[plan.SetPermissionPrefix+p] = v
			}
		}
		ids := make(map[string]string)
		for _, m := range f.Members {
			who := m.Member
			switch {
			case who == f.CallerID && strings.Contains(caller, "@"):
				// The caller, by the email it is known by.
				who = caller
				ids[who] = m.Member
			case m.Email != "":
				// A group Cloud Identity told the email of.
				who = plan.GroupPrefix + m.Email
				ids[who] = m.Member
			}
			w.Members = append(w.Members, who)
			switch m.Role {
			case plan.RoleOwner:
				w.Owners = append(w.Owners, who)
			case plan.RoleManager:
				w.Managers = append(w.Managers, who)
			}
		}
		if len(ids) == 0 {
			ids = nil
		}
		// A space the config could not state (a name Chat allowed once
		// that a config refuses) is named, not written.
		one, err := plan.MarshalConfig("", []plan.Written{w})
		if err == nil {
			_, err = plan.Parse("config", one, plan.Options{})
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("skipped %q (%s): a config cannot state it as it is: %s", f.DisplayName, f.Name, strings.ReplaceAll(err.Error(), "\n", "; ")))
			delete(first, k)
			continue
		}
		en := results.Entry{
			Name:      f.Name,
			ID:        strings.TrimPrefix(f.Name, "spaces/"),
			URL:       f.URL,
			Status:    results.Existing,
			Principal: caller,
			Applied: &results.Applied{
				Members:  slices.Clone(w.Members),
				Owners:   slices.Clone(w.Owners),
				Managers: slices.Clone(w.Managers),
				IDs:      ids,
				Settings: results.SettingsOf(w.Settings),
				// None was added by this tool: --prune-members without
				// --refresh never removes one.
				Found: slices.Clone(w.Members),
			},
		}
		if t, err := time.Parse(time.RFC3339Nano, f.CreateTime); err == nil {
			t = t.UTC()
			en.CreatedAt = &t
		}
		spaces = append(spaces, w)
		entries = append(entries, en)
	}
	return spaces, entries, skipped
}

// writeNew writes data to path, which must not exist, atomically: a
// temporary file in the same directory, synced, then linked to path (a
// link, unlike a rename, fails if path has appeared meanwhile), and the
// directory synced.
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
