package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"provision/internal/chatemu"
)

// options are the parsed flags.
type options struct {
	addr                               string
	spaceQuota, memberQuota, readQuota int
	messageQuota, spaceWriteRate       int
	createQuota, createHourlyQuota     int
	window, longWindow, latency        time.Duration
	failRate, dropRate                 float64
	retryAfter, notFoundForNonMembers  bool
	token, caller                      string
	tokens                             map[string]string // bearer token → users/EMAIL
	admins                             []string
	groups                             map[string]string // group email → ID, for groups.lookup
	foreign                            []foreignSpace
	seed                               uint64
	verbose                            bool
}

// foreignSpace is a --foreign-space: a space someone else owns, with the
// caller's role in it.
type foreignSpace struct{ name, role string }

// foreignRoles maps the words of --foreign-space to the API's roles.
var foreignRoles = map[string]string{"none": "", "member": "ROLE_MEMBER", "manager": "ROLE_ASSISTANT_MANAGER", "owner": "ROLE_MANAGER"}

// listFlag is a repeatable flag.
type listFlag func(string) error

func (f listFlag) String() string     { return "" }
func (f listFlag) Set(v string) error { return f(v) }

// parseArgs turns the command line into options; errors are usage errors.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chatemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen `address` (port 0: a free one)")
	fs.IntVar(&o.spaceQuota, "space-quota", chatemu.DefaultSpaceQuota, "space writes per window, 0 = no limit")
	fs.IntVar(&o.memberQuota, "member-quota", chatemu.DefaultMemberQuota, "membership writes per window, 0 = no limit")
	fs.IntVar(&o.readQuota, "read-quota", chatemu.DefaultReadQuota, "reads per window, 0 = no limit")
	fs.IntVar(&o.messageQuota, "message-quota", chatemu.DefaultMessageQuota, "message writes per window, 0 = no limit")
	fs.IntVar(&o.spaceWriteRate, "space-write-rate", chatemu.DefaultSpaceWriteRate, "spaces.patch, spaces.delete and messages.create per second on one space, 0 = no limit")
	fs.IntVar(&o.createQuota, "create-quota", 0, "spaces created (create, setup) per window, 0 = no limit")
	fs.IntVar(&o.createHourlyQuota, "create-hourly-quota", 0, "spaces created per long window, 0 = no limit")
	fs.DurationVar(&o.window, "window", chatemu.DefaultWindow, "quota window")
	fs.DurationVar(&o.longWindow, "long-window", chatemu.DefaultLongWindow, "window of --create-hourly-quota")
	fs.BoolVar(&o.retryAfter, "retry-after", false, "send Retry-After with 429 answers")
	fs.BoolVar(&o.notFoundForNonMembers, "non-member-404", false, "answer a caller that is not in a space 404 NOT_FOUND rather than 403")
	fs.DurationVar(&o.latency, "latency", 0, "delay added to every API call")
	fs.Float64Var(&o.failRate, "fail-rate", 0, "fraction (0-1) of calls answered 503 UNAVAILABLE")
	fs.Float64Var(&o.dropRate, "drop-rate", 0, "fraction (0-1) of creates whose answer is lost")
	fs.StringVar(&o.token, "token", "", "bearer `token` every call must carry (none: no check)")
	fs.StringVar(&o.caller, "caller", chatemu.DefaultCaller, "default caller, users/EMAIL")
	fs.Var(listFlag(func(v string) error {
		tok, caller, ok := strings.Cut(v, "=")
		if !ok || tok == "" || !strings.HasPrefix(caller, "users/") {
			return fmt.Errorf("want TOKEN=users/EMAIL, got %q", v)
		}
		if o.tokens == nil {
			o.tokens = make(map[string]string)
		}
		o.tokens[tok] = caller
		return nil
	}), "user-token", "`TOKEN=users/EMAIL`: a bearer token and the caller it stands for (repeatable)")
	fs.Var(listFlag(func(v string) error {
		o.admins = append(o.admins, v)
		return nil
	}), "admin", "`EMAIL` of a caller allowed useAdminAccess (repeatable)")
	fs.Var(listFlag(func(v string) error {
		email, id, ok := strings.Cut(v, "=")
		if !ok || !strings.Contains(email, "@") || strings.TrimPrefix(id, "groups/") == "" {
			return fmt.Errorf("want EMAIL=ID, got %q", v)
		}
		if o.groups == nil {
			o.groups = make(map[string]string)
		}
		o.groups[email] = id
		return nil
	}), "group", "`EMAIL=ID`: a Google Group that Cloud Identity's groups.lookup (served here too) resolves to groups/ID (repeatable)")
	fs.Var(listFlag(func(v string) error {
		i := strings.LastIndex(v, "=")
		if i <= 0 {
			return fmt.Errorf("want NAME=ROLE, got %q", v)
		}
		role, ok := foreignRoles[v[i+1:]]
		if !ok {
			return fmt.Errorf("role %q: want none, member, manager or owner", v[i+1:])
		}
		o.foreign = append(o.foreign, foreignSpace{v[:i], role})
		return nil
	}), "foreign-space", "`NAME=ROLE`: seed a space someone else owns, the caller's role in it none, member, manager or owner (repeatable)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed for space IDs and faults (0: random)")
	fs.BoolVar(&o.verbose, "v", false, "log every call on stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.spaceQuota < 0 || o.memberQuota < 0 || o.readQuota < 0 || o.messageQuota < 0 || o.spaceWriteRate < 0 || o.createQuota < 0 || o.createHourlyQuota < 0:
		return o, errors.New("quotas must be 0 (no limit) or more")
	case o.window <= 0:
		return o, fmt.Errorf("--window %v: must be positive", o.window)
	case o.longWindow <= 0:
		return o, fmt.Errorf("--long-window %v: must be positive", o.longWindow)
	case !strings.HasPrefix(o.caller, "users/"):
		return o, fmt.Errorf("--caller %q: want users/EMAIL", o.caller)
	case o.latency < 0:
		return o, fmt.Errorf("--latency %v: must not be negative", o.latency)
	case o.failRate < 0 || o.failRate > 1:
		return o, fmt.Errorf("--fail-rate %v: must be between 0 and 1", o.failRate)
	case o.dropRate < 0 || o.dropRate > 1:
		return o, fmt.Errorf("--drop-rate %v: must be between 0 and 1", o.dropRate)
	}
	return o, nil
}

func (o options) serverOptions(logger *slog.Logger) []chatemu.Option {
	opts := []chatemu.Option{
		chatemu.WithSpaceQuota(o.spaceQuota),
		chatemu.WithMemberQuota(o.memberQuota),
		chatemu.WithReadQuota(o.readQuota),
		chatemu.WithMessageQuota(o.messageQuota),
		chatemu.WithSpaceWriteRate(o.spaceWriteRate),
		chatemu.WithCreationLimit(o.createQuota, o.createHourlyQuota),
		chatemu.WithWindow(o.window),
		chatemu.WithLongWindow(o.longWindow),
		chatemu.WithLatency(o.latency),
		chatemu.WithFailureRate(o.failRate),
		chatemu.WithLostResponseRate(o.dropRate),
		chatemu.WithToken(o.token),
		chatemu.WithCaller(o.caller),
		chatemu.WithAdmins(o.admins...),
		chatemu.WithGroups(o.groups),
		chatemu.WithLogger(logger),
	}
	if o.tokens != nil {
		opts = append(opts, chatemu.WithTokens(o.tokens))
	}
	if o.retryAfter {
		opts = append(opts, chatemu.WithRetryAfter())
	}
	if o.notFoundForNonMembers {
		opts = append(opts, chatemu.WithNotFoundForNonMembers())
	}
	if o.seed != 0 {
		opts = append(opts, chatemu.WithSeed(o.seed))
	}
	return opts
}

// run serves until ctx is done and returns the exit status: 0 after a clean
// stop, 1 if it could not serve, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatemu: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "chatemu: %v\n", err)
		return 1
	}
	url := baseURL(ln.Addr())
	emu := chatemu.New(o.serverOptions(logger)...)
	for _, f := range o.foreign {
		if err := addForeign(emu, f); err != nil {
			_ = ln.Close()
			fmt.Fprintf(stderr, "chatemu: --foreign-space %q: %v\n", f.name, err)
			return 2
		}
	}
	srv := &http.Server{
		Handler:           emu,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// The URL goes out before serving starts: a script that reads the first
	// line may connect at once, and the listener already queues connections.
	fmt.Fprintln(stdout, url)
	logger.Info("chatemu listening", "url", url,
		"spaceQuota", o.spaceQuota, "memberQuota", o.memberQuota, "readQuota", o.readQuota, "window", o.window,
		"createQuota", o.createQuota, "createHourlyQuota", o.createHourlyQuota, "longWindow", o.longWindow, "retryAfter", o.retryAfter,
		"latency", o.latency, "failRate", o.failRate, "dropRate", o.dropRate, "token", o.token != "", "userTokens", len(o.tokens),
		"foreignSpaces", len(o.foreign))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "chatemu: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("chatemu stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	return 0
}

// addForeign seeds a --foreign-space, turning AddForeignSpace's panic on a
// taken or invalid name into an error.
func addForeign(emu *chatemu.Server, f foreignSpace) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	emu.AddForeignSpace(f.name, foreignOwner, f.role)
	return nil
}

// foreignOwner owns the spaces --foreign-space seeds.
const foreignOwner = "users/someone.else@example.com"

// baseURL is the URL clients use, with a loopback host when the listener is
// on every interface.
func baseURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String() + "/"
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port)) + "/"
}
