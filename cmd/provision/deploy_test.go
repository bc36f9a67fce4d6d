package main

// The scheduling guides (docs/scheduling.md) and the files they describe
// (deploy/) are checked here as far as this machine allows: the YAML
// parses, every provision command line in them is one parseArgs accepts,
// the units and manifests keep the options the guide promises, the cron
// wrapper maps each exit status to its message, and systemd-analyze
// verifies the units when it is installed.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"provision/internal/plan"
)

const (
	deployDir  = "../../deploy"
	schedGuide = "../../docs/scheduling.md"
)

// deployFiles returns the files under deploy/, relative to it.
func deployFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(deployDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(deployDir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no file under deploy/")
	}
	return files
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, name)))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, doc)
	}
}

func TestDeployYAMLParses(t *testing.T) {
	t.Parallel()
	n := 0
	for _, f := range deployFiles(t) {
		if ext := path.Ext(f); ext != ".yaml" && ext != ".yml" {
			continue
		}
		n++
		if docs := yamlDocs(t, filepath.Join(deployDir, f)); len(docs) == 0 {
			t.Errorf("deploy/%s holds no YAML document", f)
		}
	}
	if n < 2 {
		t.Errorf("%d YAML files under deploy/, want the CronJob and the CI workflow at least", n)
	}
}

// --- provision's command lines -------------------------------------------

// pendingFlags lists flags that the guides may use before parseArgs knows
// them, with whether each takes a value. Empty: every flag the guides use
// is defined.
var pendingFlags = map[string]bool{}

// cmdLine is one provision command line found in a file.
type cmdLine struct {
	where string   // file:line
	args  []string // after the program name
}

var (
	shellOp    = regexp.MustCompile(`^(\||\|\||&&|;|&|\(|\)|\{|\}|[0-9]?>>?.*|<.*)$`)
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// cmdLines finds the command lines that run provision in text, whose
// first line is line first+1 of file: provision (or a path ending in
// /provision, or the cron wrapper's "$provision") as the command of a
// shell command, after any variable assignments and a sudo, timeout or
// nice in front. Backslash
// continuations are joined; words are split as sh would, up to the first
// operator or redirection; variables and systemd specifiers become
// placeholder values of the right kind.
func cmdLines(file string, first int, text string) []cmdLine {
	var out []cmdLine
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i
		line := lines[i]
		for strings.HasSuffix(strings.TrimRight(line, " \t"), `\`) && i+1 < len(lines) {
			line = strings.TrimSuffix(strings.TrimRight(line, " \t"), `\`) + " " + strings.TrimSpace(lines[i+1])
			i++
		}
		words := shellWords(line)
		for j := 0; j < len(words); j++ {
			j = commandWord(words, j)
			if j >= len(words) {
				break
			}
			end := j + 1
			for end < len(words) && !shellOp.MatchString(words[end]) {
				end++
			}
			if namesProvision(words[j]) {
				out = append(out, cmdLine{where: file + ":" + strconv.Itoa(first+start+1), args: placeholders(words[j+1 : end])})
			}
			j = end
		}
	}
	return out
}

// commandWord returns the index of the command of the shell command that
// starts at words[j]: past assignments, and past sudo, timeout, nice, env
// and exec with their options.
func commandWord(words []string, j int) int {
	valued := map[string]map[string]bool{
		"sudo":    {"-u": true, "-g": true},
		"timeout": {"-s": true, "-k": true},
		"nice":    {"-n": true},
	}
	for j < len(words) {
		w := words[j]
		switch {
		case assignment.MatchString(w):
			j++
		case w == "sudo" || w == "nice" || w == "env" || w == "exec" || w == "timeout":
			j++
			for j < len(words) && strings.HasPrefix(words[j], "-") {
				if valued[w][words[j]] {
					j++
				}
				j++
			}
			if w == "timeout" && j < len(words) {
				j++ // the duration
			}
		default:
			return j
		}
	}
	return j
}

var provisionWord = regexp.MustCompile(`^(\S*/)?provision$|^\$\{?provision\}?$`)

// namesProvision says whether a command word runs provision.
func namesProvision(w string) bool { return provisionWord.MatchString(w) }

// shellWords splits a line into words, with quotes removed, as sh does
// for the simple lines of the guides; a comment ends the line.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '#' && !in:
			return words
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

var (
	shellVar  = regexp.MustCompile(`\$(\{[^}]*\}|\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*)|\$\{\{[^}]*\}\}|%[a-zA-Z]`)
	emailFlag = map[string]bool{"--subject": true, "--caller": true, "-subject": true, "-caller": true}
)

// placeholders replaces what the shell or systemd would fill in: an email
// after --subject and --caller, otherwise a name of its own for each
// argument, so that no two files of a run look alike by accident.
func placeholders(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if shellVar.MatchString(a) {
			if i > 0 && emailFlag[args[i-1]] {
				a = "admin@example.com"
			} else {
				a = shellVar.ReplaceAllString(a, "v"+strconv.Itoa(i))
			}
		}
		out[i] = a
	}
	return out
}

// flagName is the name of a flag word ("--max-wait=5m": "max-wait").
func flagName(w string) string {
	name := strings.TrimLeft(w, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// defined says whether parseArgs knows the flag.
func defined(name string) bool {
	_, err := parseArgs([]string{"-" + name}, io.Discard)
	return err == nil || !strings.Contains(err.Error(), "provided but not defined")
}

// checkInvocation checks that parseArgs knows every flag of inv and
// accepts the whole command line.
func checkInvocation(t *testing.T, inv cmdLine) {
	t.Helper()
	var args []string
	for i := 0; i < len(inv.args); i++ {
		a := inv.args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			args = append(args, a)
			continue
		}
		name := flagName(a)
		if defined(name) {
			args = append(args, a)
			continue
		}
		takesValue, pending := pendingFlags[name]
		if !pending {
			t.Errorf("%s: provision has no flag -%s (provision %s)", inv.where, name, strings.Join(inv.args, " "))
			continue
		}
		if takesValue && !strings.Contains(a, "=") {
			i++
		}
	}
	if _, err := parseArgs(args, io.Discard); err != nil {
		t.Errorf("%s: parseArgs(%q) = %v, want the command line accepted", inv.where, args, err)
	}
}

// guideCode returns the fenced code blocks of docs/scheduling.md by the
// line their code starts on.
func guideCode(t *testing.T) map[int]string {
	t.Helper()
	blocks := make(map[int]string)
	sc := bufio.NewScanner(strings.NewReader(readFile(t, schedGuide)))
	var cur []string
	start, in := 0, false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if in {
				blocks[start] = strings.Join(cur, "\n")
				cur = nil
			}
			in, start = !in, n+1
			continue
		}
		if in {
			cur = append(cur, line)
		}
	}
	return blocks
}

func TestDeployCommandLines(t *testing.T) {
	t.Parallel()
	perFile := make(map[string]int)
	for _, f := range deployFiles(t) {
		name := filepath.Join(deployDir, f)
		var found []cmdLine
		switch path.Ext(f) {
		case ".service", ".timer":
			// A unit runs commands in its Exec*= settings only.
			for _, keys := range parseUnit(t, name) {
				for k, values := range keys {
					for _, v := range values {
						if strings.HasPrefix(k, "Exec") {
							found = append(found, cmdLines("deploy/"+f+" "+k, 0, v)...)
						}
					}
				}
			}
		default:
			found = cmdLines("deploy/"+f, 0, readFile(t, name))
		}
		for _, inv := range found {
			perFile[f]++
			checkInvocation(t, inv)
		}
	}
	for _, f := range []string{"cron/provision-cron", "systemd/provision.service", "ci/github-actions.yml"} {
		if perFile[f] == 0 {
			t.Errorf("no provision command line found in deploy/%s", f)
		}
	}
	n := 0
	for start, code := range guideCode(t) {
		for _, inv := range cmdLines("docs/scheduling.md", start-1, code) {
			n++
			checkInvocation(t, inv)
		}
	}
	if n < 3 {
		t.Errorf("%d provision command lines in docs/scheduling.md's code blocks, want 3 or more", n)
	}
}

func TestDeployPendingFlags(t *testing.T) {
	t.Parallel()
	for name := range pendingFlags {
		if defined(name) {
			t.Errorf("-%s is defined now: take it out of pendingFlags", name)
		}
	}
}

// --- systemd ------------------------------------------------------------

// unit is a parsed unit file: section, key, and every value given, in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, name string) unit {
	t.Helper()
	u := make(unit)
	section := ""
	lines := strings.Split(readFile(t, name), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = make(map[string][]string)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line: %q", name, i+1, line)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.Join(strings.Fields(v), " "))
		}
	}
	return u
}

// last is the value in force: the last one given.
func (u unit) last(section, key string) (string, bool) {
	v := u[section][key]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

func TestDeploySystemdUnits(t *testing.T) {
	t.Parallel()
	svc := parseUnit(t, filepath.Join(deployDir, "systemd/provision.service"))
	want := map[string]string{
		"Type":                    "oneshot",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"StateDirectory":          "provision",
		"ReadWritePaths":          "/var/lib/provision",
		"SuccessExitStatus":       "",
	}
	for k, v := range want {
		got, ok := svc.last("Service", k)
		if !ok || got != v {
			t.Errorf("provision.service: %s=%q (set: %v), want %q", k, got, ok, v)
		}
	}
	if rw := svc["Service"]["ReadWritePaths"]; len(rw) != 1 {
		t.Errorf("provision.service: ReadWritePaths=%q, want the state directory alone", rw)
	}
	if u, _ := svc.last("Service", "User"); u == "" || u == "root" {
		t.Errorf("provision.service: User=%q, want a user of its own", u)
	}
	if f, _ := svc.last("Unit", "OnFailure"); f == "" {
		t.Error("provision.service: no OnFailure=: a run that exits 1, 2 or 3 would alert no one")
	}
	// The state files live in the state directory, the key comes from
	// LoadCredential=.
	exec, _ := svc.last("Service", "ExecStart")
	args := strings.Fields(exec)
	for i, a := range args[:len(args)-1] {
		switch a {
		case "--results", "--metrics":
			if filepath.Dir(args[i+1]) != "/var/lib/provision" {
				t.Errorf("provision.service: %s %s is outside the state directory /var/lib/provision", a, args[i+1])
			}
		case "--credentials":
			if !strings.HasPrefix(args[i+1], "%d/") {
				t.Errorf("provision.service: --credentials %s, want a file of LoadCredential= (%%d/…)", args[i+1])
			}
		}
	}
	if !slices.Contains(args, "--results") {
		t.Error("provision.service: ExecStart has no --results in the state directory")
	}

	timer := parseUnit(t, filepath.Join(deployDir, "systemd/provision.timer"))
	for k, v := range map[string]string{"Persistent": "true", "Unit": "provision.service"} {
		if got, _ := timer.last("Timer", k); got != v {
			t.Errorf("provision.timer: %s=%q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"OnCalendar", "RandomizedDelaySec"} {
		if got, _ := timer.last("Timer", k); got == "" {
			t.Errorf("provision.timer: no %s=", k)
		}
	}
}

// TestDeploySystemdVerify runs systemd-analyze verify on copies of the
// units whose commands point at a stub (verify insists that they exist),
// and fails on any warning as well as on an error; then systemd-analyze
// security, offline, on the service.
func TestDeploySystemdVerify(t *testing.T) {
	t.Parallel()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd); the units are not verified")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "stub")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := strings.NewReplacer("/usr/local/bin/provision", stub, "/usr/local/lib/provision/provision-alert", stub)
	var units []string
	for _, f := range deployFiles(t) {
		if !strings.HasPrefix(f, "systemd/") || (path.Ext(f) != ".service" && path.Ext(f) != ".timer") {
			continue
		}
		dst := filepath.Join(dir, path.Base(f))
		if err := os.WriteFile(dst, []byte(paths.Replace(readFile(t, filepath.Join(deployDir, f)))), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, dst)
	}
	if len(units) < 2 {
		t.Fatalf("units under deploy/systemd: %q, want the service and the timer", units)
	}
	out, err := exec.Command(sa, append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// An exposure of 2.0 or less is "OK" in systemd's words; --threshold
	// counts in tenths.
	out, err = exec.Command(sa, "security", "--offline=yes", "--threshold=20", "--no-pager", filepath.Join(dir, "provision.service")).CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("nrecognized option")) || bytes.Contains(out, []byte("Unknown command")) {
			t.Logf("systemd-analyze security --offline is not available here (systemd 250 or later): %s", bytes.TrimSpace(out))
			return
		}
		t.Errorf("systemd-analyze security --offline=yes --threshold=20 provision.service: %v (an exposure above 2.0)\n%s", err, out)
	}
}

// --- Kubernetes -----------------------------------------------------------

// dig walks a decoded YAML document by keys (strings) and indexes (ints).
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestDeployCronJob(t *testing.T) {
	t.Parallel()
	docs := yamlDocs(t, filepath.Join(deployDir, "kubernetes/cronjob.yaml"))
	byKind := make(map[string]map[string]any)
	for _, d := range docs {
		byKind[d["kind"].(string)] = d
	}
	cj := byKind["CronJob"]
	if cj == nil {
		t.Fatal("cronjob.yaml has no CronJob")
	}
	spec := dig(cj, "spec")
	for _, c := range []struct {
		keys []any
		want any
	}{
		{[]any{"concurrencyPolicy"}, "Forbid"},
		{[]any{"jobTemplate", "spec", "backoffLimit"}, 0},
		{[]any{"jobTemplate", "spec", "template", "spec", "restartPolicy"}, "Never"},
		{[]any{"jobTemplate", "spec", "template", "spec", "securityContext", "runAsNonRoot"}, true},
		{[]any{"jobTemplate", "spec", "template", "spec", "automountServiceAccountToken"}, false},
		{[]any{"jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"}, true},
		{[]any{"jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"}, false},
		{[]any{"jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop", 0}, "ALL"},
	} {
		if got := dig(spec, c.keys...); got != c.want {
			t.Errorf("CronJob spec %v = %v, want %v", c.keys, got, c.want)
		}
	}
	if d, ok := dig(spec, "startingDeadlineSeconds").(int); !ok || d <= 0 {
		t.Errorf("CronJob startingDeadlineSeconds = %v, want a positive number", dig(spec, "startingDeadlineSeconds"))
	}

	pod := dig(spec, "jobTemplate", "spec", "template", "spec")
	ctr := dig(pod, "containers", 0)
	var argv []string
	for _, part := range []string{"command", "args"} {
		l, _ := dig(ctr, part).([]any)
		for _, a := range l {
			argv = append(argv, a.(string))
		}
	}
	if len(argv) == 0 || path.Base(argv[0]) != "provision" {
		t.Fatalf("the container runs %q, want provision", argv)
	}
	checkInvocation(t, cmdLine{where: "deploy/kubernetes/cronjob.yaml", args: argv[1:]})

	// Where each volume is mounted, and what it is.
	mounts := make(map[string]string) // mount path -> volume name
	ms, _ := dig(ctr, "volumeMounts").([]any)
	for _, m := range ms {
		if sp := dig(m, "subPath"); sp != nil {
			t.Errorf("volume mount %v uses subPath: the results file is renamed within its directory, which must be the mount", m)
		}
		mounts[dig(m, "mountPath").(string)] = dig(m, "name").(string)
	}
	volumes := make(map[string]map[string]any)
	vs, _ := dig(pod, "volumes").([]any)
	for _, v := range vs {
		volumes[dig(v, "name").(string)] = v.(map[string]any)
	}
	volumeAt := func(file string) map[string]any { return volumes[mounts[path.Dir(file)]] }
	flagValue := func(name string) string {
		if i := slices.Index(argv, name); i >= 0 && i+1 < len(argv) {
			return argv[i+1]
		}
		return ""
	}

	// The state is in a bucket: no volume, so any node may run the pod.
	if results := flagValue("--results"); !strings.HasPrefix(results, "gs://") {
		t.Errorf("--results %q: the CronJob keeps its state in a bucket (gs://…)", results)
	}
	if byKind["PersistentVolumeClaim"] != nil {
		t.Error("a PersistentVolumeClaim beside a state kept in a bucket")
	}
	if key := flagValue("--credentials"); dig(volumeAt(key), "secret") == nil {
		t.Errorf("--credentials %q is not in a Secret volume", key)
	}

	config := argv[len(argv)-1]
	cmName, _ := dig(volumeAt(config), "configMap", "name").(string)
	cm := byKind["ConfigMap"]
	if cmName == "" || dig(cm, "metadata", "name") != cmName {
		t.Fatalf("the config %q is not in the ConfigMap of the file (volume %v)", config, volumeAt(config))
	}
	data, _ := dig(cm, "data", path.Base(config)).(string)
	if _, err := plan.Parse(path.Base(config), []byte(data), plan.Options{}); err != nil {
		t.Errorf("the ConfigMap's %s: %v", path.Base(config), err)
	}
}

// --- CI -------------------------------------------------------------------

func TestDeployGitHubActions(t *testing.T) {
	t.Parallel()
	name := filepath.Join(deployDir, "ci/github-actions.yml")
	wf := yamlDocs(t, name)[0]
	if dig(wf, "on", "pull_request") == nil {
		t.Error("the workflow does not run on pull requests")
	}
	jobs, _ := dig(wf, "jobs").(map[string]any)
	var planned, applied bool
	for id, job := range jobs {
		steps, _ := dig(job, "steps").([]any)
		for _, s := range steps {
			if u, _ := dig(s, "uses").(string); strings.HasPrefix(u, "google-github-actions/auth@") {
				for _, k := range []string{"workload_identity_provider", "service_account"} {
					if dig(s, "with", k) == nil {
						t.Errorf("job %s: google-github-actions/auth without %s", id, k)
					}
				}
				if dig(job, "permissions", "id-token") != "write" {
					t.Errorf("job %s: workload identity federation needs permissions: id-token: write", id)
				}
			}
			run, _ := dig(s, "run").(string)
			for _, inv := range cmdLines("job "+id, 0, run) {
				if i := slices.Index(inv.args, "--results"); i < 0 || i+1 == len(inv.args) || !strings.HasPrefix(inv.args[i+1], "gs://") {
					t.Errorf("job %s: %v does not keep its state in a bucket (--results gs://…)", id, inv.args)
				}
				if slices.Contains(inv.args, "--plan") {
					planned = true
					if cond, _ := dig(job, "if").(string); !strings.Contains(cond, "pull_request") {
						t.Errorf("job %s plans, but not on pull requests", id)
					}
					continue
				}
				applied = true
				if dig(job, "concurrency", "cancel-in-progress") != false || dig(job, "concurrency", "group") == nil {
					t.Errorf("job %s applies without a concurrency group that never cancels a run: two runners would share the state", id)
				}
			}
		}
	}
	if !planned || !applied {
		t.Errorf("the workflow plans: %v, applies: %v; want both", planned, applied)
	}
}

// --- cron -------------------------------------------------------------------

// TestDeployCronWrapper runs the cron wrapper with a stand-in for
// provision that exits with each status, and checks what cron would mail
// and the command line provision would get.
func TestDeployCronWrapper(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk")
	}
	wrapper, err := filepath.Abs(filepath.Join(deployDir, "cron/provision-cron"))
	if err != nil {
		t.Fatal(err)
	}
	const lockMsg = `provision: results file is in use by another run: "/var/lib/provision/spaces.results.json.lock" is locked by pid 41 on host "h" since 2026-12-01T06:15:00Z`
	for _, c := range []struct {
		name     string
		status   int
		stderr   string
		earlier  string // what the log held before
		want     []string
		wantNone bool
	}{
		{name: "ok", status: 0, wantNone: true},
		{name: "failed", status: 1, stderr: `failed: "Onboarding: Sales": ALREADY_EXISTS`, want: []string{"exit 1", "retries by itself", "ALREADY_EXISTS"}},
		{name: "config", status: 2, stderr: "spaces.yaml:3:5: unknown key", earlier: lockMsg, want: []string{"exit 2", "A person must look", "unknown key"}},
		{name: "locked", status: 2, stderr: lockMsg, want: []string{"another run holds the lock", "pid 41"}},
		{name: "stopped", status: 3, stderr: `provision: results lock lost: "/var/lib/provision/spaces.results.json.lock" was removed during the run`, want: []string{"exit 3", "stopped mid-way", "A person must look", "results lock lost"}},
		{name: "interrupted", status: 130, want: []string{"exit 130", "resumes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			stub := filepath.Join(dir, "provision")
			script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_ARGS\"\necho 'Plan: 1 to create.'\nprintf '%s\\n' \"$STUB_STDERR\" >&2\nexit $STUB_STATUS\n"
			if err := os.WriteFile(stub, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(dir, "provision.log")
			if err := os.WriteFile(log, []byte("=== earlier run starts (pid 1)\n"+c.earlier+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sh, wrapper)
			cmd.Env = append(os.Environ(),
				"PROVISION_BIN="+stub, "PROVISION_LOG="+log, "PROVISION_STATE="+dir,
				"PROVISION_METRICS="+filepath.Join(dir, "provision.prom"),
				"STUB_ARGS="+filepath.Join(dir, "args"), "STUB_STDERR="+c.stderr, "STUB_STATUS="+strconv.Itoa(c.status))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			got := 0
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != c.status {
				t.Errorf("the wrapper exits %d, want provision's %d; stderr: %s", got, c.status, &stderr)
			}
			out := stdout.String()
			if c.wantNone && (out != "" || stderr.Len() > 0) {
				t.Errorf("the wrapper printed %q (stderr %q), want nothing: cron would mail it", out, &stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the wrapper printed %q, want it to say %q", out, w)
				}
			}
			if strings.Contains(out, "earlier run") {
				t.Errorf("the wrapper printed an earlier run's lines: %q", out)
			}
			logText := readFile(t, log)
			if !strings.Contains(logText, "Plan: 1 to create.") || !strings.Contains(logText, "exit status "+strconv.Itoa(c.status)) {
				t.Errorf("the log holds %q, want the run's output and its exit status", logText)
			}
			args := strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(dir, "args")), "\n"), "\n")
			checkInvocation(t, cmdLine{where: "deploy/cron/provision-cron", args: args})
		})
	}
}

// --- the guide -------------------------------------------------------------

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)

// TestDeployGuideLinks checks that docs/scheduling.md links every file
// under deploy/, and that its relative links lead somewhere.
func TestDeployGuideLinks(t *testing.T) {
	t.Parallel()
	guide := readFile(t, schedGuide)
	linked := make(map[string]bool)
	for _, m := range mdLink.FindAllStringSubmatch(guide, -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		p := filepath.Join(filepath.Dir(schedGuide), filepath.FromSlash(target))
		if _, err := os.Stat(p); err != nil {
			t.Errorf("docs/scheduling.md links %s, which does not exist", target)
		}
		linked[path.Clean(path.Join("docs", target))] = true
	}
	for _, f := range deployFiles(t) {
		if !linked["deploy/"+f] {
			t.Errorf("docs/scheduling.md does not link deploy/%s", f)
		}
	}
}

var metricName = regexp.MustCompile(`\bprovision_[a-z_]+[a-z]\b`)

// TestDeployMetricNames checks that the metrics the guide and the alerting
// rules name are ones provision writes (named in its source), once
// --metrics exists.
func TestDeployMetricNames(t *testing.T) {
	t.Parallel()
	if !defined("metrics") {
		t.Skip("provision has no --metrics yet")
	}
	var src strings.Builder
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasSuffix(n, "_test.go") {
			src.WriteString(readFile(t, n))
		}
	}
	texts := map[string]string{"docs/scheduling.md": readFile(t, schedGuide)}
	for _, f := range deployFiles(t) {
		texts["deploy/"+f] = readFile(t, filepath.Join(deployDir, f))
	}
	for where, text := range texts {
		for _, m := range metricName.FindAllString(text, -1) {
			if !strings.Contains(src.String(), `"`+m+`"`) {
				t.Errorf("%s names the metric %s, which provision does not write", where, m)
			}
		}
	}
}
