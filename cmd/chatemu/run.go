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
	"time"

	"provision/internal/chatemu"
)

// options are the parsed flags.
type options struct {
	addr                               string
	spaceQuota, memberQuota, readQuota int
	window, latency                    time.Duration
	failRate, dropRate                 float64
	token                              string
	seed                               uint64
	verbose                            bool
}

// parseArgs turns the command line into options; errors are usage errors.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chatemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen `address` (port 0: a free one)")
	fs.IntVar(&o.spaceQuota, "space-quota", chatemu.DefaultSpaceQuota, "space writes per window, 0 = no limit")
	fs.IntVar(&o.memberQuota, "member-quota", chatemu.DefaultMemberQuota, "membership writes per window, 0 = no limit")
	fs.IntVar(&o.readQuota, "read-quota", chatemu.DefaultReadQuota, "reads per window, 0 = no limit")
	fs.DurationVar(&o.window, "window", chatemu.DefaultWindow, "quota window")
	fs.DurationVar(&o.latency, "latency", 0, "delay added to every API call")
	fs.Float64Var(&o.failRate, "fail-rate", 0, "fraction (0-1) of calls answered 503 UNAVAILABLE")
	fs.Float64Var(&o.dropRate, "drop-rate", 0, "fraction (0-1) of creates whose answer is lost")
	fs.StringVar(&o.token, "token", "", "bearer `token` every call must carry (none: no check)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed for space IDs and faults (0: random)")
	fs.BoolVar(&o.verbose, "v", false, "log every call on stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.spaceQuota < 0 || o.memberQuota < 0 || o.readQuota < 0:
		return o, errors.New("quotas must be 0 (no limit) or more")
	case o.window <= 0:
		return o, fmt.Errorf("--window %v: must be positive", o.window)
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
		chatemu.WithWindow(o.window),
		chatemu.WithLatency(o.latency),
		chatemu.WithFailureRate(o.failRate),
		chatemu.WithLostResponseRate(o.dropRate),
		chatemu.WithToken(o.token),
		chatemu.WithLogger(logger),
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
	srv := &http.Server{
		Handler:           chatemu.New(o.serverOptions(logger)...),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// The URL goes out before serving starts: a script that reads the first
	// line may connect at once, and the listener already queues connections.
	fmt.Fprintln(stdout, url)
	logger.Info("chatemu listening", "url", url,
		"spaceQuota", o.spaceQuota, "memberQuota", o.memberQuota, "readQuota", o.readQuota, "window", o.window,
		"latency", o.latency, "failRate", o.failRate, "dropRate", o.dropRate, "token", o.token != "")

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
