package chatemu

import (
	"log/slog"
	"strings"
	"time"
)

// Default quotas per window, as the Chat API documents them per project and
// minute.
const (
	DefaultSpaceQuota  = 60
	DefaultMemberQuota = 300
	DefaultReadQuota   = 3000
	DefaultWindow      = time.Minute
	DefaultCaller      = "users/caller@example.com"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	quotas     [numClasses]int
	window     time.Duration
	latency    time.Duration
	failRate   float64
	dropRate   float64
	token      string
	seed       uint64
	seeded     bool
	now        func() time.Time
	caller     string
	unaddable  map[string]bool
	invited    []string // lower-cased emails or "@domain" suffixes
	duplicates bool
	logger     *slog.Logger
}

func defaultConfig() config {
	return config{
		quotas: [numClasses]int{DefaultSpaceQuota, DefaultMemberQuota, DefaultReadQuota},
		window: DefaultWindow,
		now:    time.Now,
		caller: DefaultCaller,
		logger: slog.New(slog.DiscardHandler),
	}
}

// WithSpaceQuota sets the space writes (create, setup, delete) allowed per
// window; 0 turns the quota off.
func WithSpaceQuota(n int) Option { return func(c *config) { c.quotas[classSpaceWrite] = max(n, 0) } }

// WithMemberQuota sets the membership writes (members.create, members.patch)
// allowed per window; 0 turns the quota off.
func WithMemberQuota(n int) Option { return func(c *config) { c.quotas[classMemberWrite] = max(n, 0) } }

// WithReadQuota sets the reads (get and list of spaces and members) allowed
// per window; 0 turns the quota off.
func WithReadQuota(n int) Option { return func(c *config) { c.quotas[classRead] = max(n, 0) } }

// WithWindow sets the length of the sliding quota window (default a minute).
func WithWindow(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.window = d
		}
	}
}

// WithLatency delays every API call by d before it is handled.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = max(d, 0) } }

// WithFailureRate answers the fraction f (0 to 1) of API calls with 503
// UNAVAILABLE, before they touch any state.
func WithFailureRate(f float64) Option { return func(c *config) { c.failRate = clamp01(f) } }

// WithLostResponseRate makes the fraction f (0 to 1) of successful creates
// (spaces.create, spaces.setup) lose their answer: the space is made, then
// the connection is closed before any byte of the response is sent.
func WithLostResponseRate(f float64) Option { return func(c *config) { c.dropRate = clamp01(f) } }

// WithToken requires every API call to carry "Authorization: Bearer tok";
// calls without it are answered 401 UNAUTHENTICATED. The token is never
// logged nor echoed.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithSeed makes space IDs and fault injection reproducible. Without it the
// seed is random.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// WithClock replaces time.Now for quotas, timestamps and counters. Latency
// still sleeps in real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithCaller sets the authenticated user, "users/EMAIL" or "users/ID"
// (default DefaultCaller). The caller becomes a manager of every space it
// creates and must not be named in spaces.setup.
func WithCaller(name string) Option { return func(c *config) { c.caller = name } }

// WithUnaddable marks users (by email) who cannot be added to any space:
// spaces.setup silently leaves them out, as the real API does for members
// the caller may not add, and members.create answers 403 PERMISSION_DENIED.
func WithUnaddable(emails ...string) Option {
	return func(c *config) {
		if c.unaddable == nil {
			c.unaddable = make(map[string]bool)
		}
		for _, e := range emails {
			c.unaddable[normEmail(e)] = true
		}
	}
}

// WithInvited marks users whose membership ends up INVITED rather than
// JOINED: each pattern is an email or a domain ("example.org" or
// "@example.org"), as for users outside the organization.
func WithInvited(patterns ...string) Option {
	return func(c *config) {
		for _, p := range patterns {
			p = normEmail(p)
			if !strings.Contains(p, "@") {
				p = "@" + p
			}
			c.invited = append(c.invited, p)
		}
	}
}

// WithDuplicateNames turns off the ALREADY_EXISTS check on display names, so
// that requestId is the only guard against duplicates; Stats.Duplicates then
// counts the spaces created under a display name already in use.
func WithDuplicateNames() Option { return func(c *config) { c.duplicates = true } }

// WithLogger logs each API call at debug level (method, status, duration).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

func clamp01(f float64) float64 { return min(max(f, 0), 1) }

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }
