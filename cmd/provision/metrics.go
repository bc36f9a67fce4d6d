package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/google/renameio/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"provision/internal/apply"
	"provision/internal/plan"
)

// lastSuccess is the metric that outlives failed runs: a failed run keeps
// the time of the last successful one from the file it replaces.
const lastSuccess = "provision_last_success_timestamp_seconds"

// runReport is what a run's metrics say.
type runReport struct {
	sum    *apply.Summary // nil when the run stopped before applying
	counts plan.Counts
	exit   int
	start  time.Time
	end    time.Time
	build  buildInfo
}

// writeMetrics writes r to path in the Prometheus text format that
// node_exporter's textfile collector reads, atomically (a temporary file
// renamed over it), so that the collector never reads half a file.
func writeMetrics(path string, r runReport) error {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	info := vec("provision_build_info", "The build of provision that ran: always 1.", "version", "revision", "goversion")
	info.WithLabelValues(r.build.Version, r.build.Revision, r.build.Go).Set(1)

	spaces := vec("provision_spaces", "Spaces of the config by what the last run did with them.", "outcome")
	s := r.sum
	if s == nil {
		s = &apply.Summary{}
	}
	for outcome, n := range map[string]int{
		"created": s.Created, "existing": s.Existing, "updated": s.Updated, "failed": s.Failed,
		"unchanged": r.counts.Unchanged, "interrupted": s.Interrupted, "deleted": s.Deleted,
		"unreachable": s.Unreachable, "renamed": s.Renamed,
	} {
		spaces.WithLabelValues(outcome).Set(float64(n))
	}
	members := vec("provision_members", "Membership outcomes of the last run.", "outcome")
	for outcome, n := range map[string]int{
		"added": s.MembersAdded, "invited": s.MembersInvited, "failed": s.MembersFailed,
		"missing": s.MembersMissing, "removed": s.MembersRemoved, "role_changed": s.RolesSet,
	} {
		members.WithLabelValues(outcome).Set(float64(n))
	}
	withheld := vec("provision_withheld", "What the last run withheld of what --prune and --prune-members destroy: over --max-deletions or --max-removals, or after a failure.", "what")
	withheld.WithLabelValues("deletions").Set(float64(s.DeletionsWithheld))
	withheld.WithLabelValues("removals").Set(float64(s.RemovalsWithheld))
	gauge("provision_space_writes", "Space writes (create, setup, patch, delete) the last run sent, retries included.", float64(s.SpaceWrites))
	gauge("provision_membership_writes", "Membership writes the last run sent, retries included.", float64(s.MemberWrites))
	gauge("provision_throttled", "Answers of the last run that throttled it (429, or a 403 about a quota).", float64(s.Throttled))
	gauge("provision_quota_wait_seconds", "Time the last run spent held by the server's quota.", s.QuotaWait.Seconds())
	calls := vec("provision_api_calls", "API calls of the last run by method and HTTP status (0: no answer).", "method", "code")
	for method, byCode := range s.Calls {
		for code, n := range byCode {
			calls.WithLabelValues(method, strconv.Itoa(code)).Set(float64(n))
		}
	}
	gauge("provision_run_duration_seconds", "How long the last run took.", r.end.Sub(r.start).Seconds())
	gauge("provision_exit_status", "The exit status of the last run: 0 ok, 1 failures or quota, 2 refused before any write, 3 stopped mid-way (a person must look), 130 interrupted.", float64(r.exit))
	gauge("provision_last_run_timestamp_seconds", "When the last run ended (Unix time).", float64(r.end.Unix()))
	last := previousSuccess(path)
	if r.exit == exitOK {
		last = float64(r.end.Unix())
	}
	// 0 until a run succeeds: an alert on its age fires for a job that
	// never did.
	gauge(lastSuccess, "When the last successful run (exit 0) ended (Unix time); 0 if none has.", last)

	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding metrics: %w", err)
		}
	}
	if err := renameio.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	return nil
}

// previousSuccess reads the last success time from the metrics file a
// previous run wrote; 0 if there is none or it cannot be read.
func previousSuccess(path string) float64 {
	// Only a regular file is read: a named pipe planted there would hang
	// the run, a link could point anywhere. (It is replaced either way.)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		return 0
	}
	mf := mfs[lastSuccess]
	if mf == nil || len(mf.GetMetric()) != 1 {
		return 0
	}
	return mf.GetMetric()[0].GetGauge().GetValue()
}

// replaceableMetrics says whether path may be written as the metrics file
// of a refused command line, whose other file names were not checked
// against it: only if nothing is there, or a metrics file of provision.
func replaceableMetrics(path string) bool {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true
	case err != nil || !fi.Mode().IsRegular():
		return false
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	return err == nil && mfs["provision_exit_status"] != nil
}
