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

	// DefaultMessageQuota is the message writes allowed per window (Limits:
	// 3,000 per minute per project).
	DefaultMessageQuota = 3000
	// DefaultLongWindow is the window of the hourly space-creation cap.
	DefaultLongWindow = time.Hour
	// DefaultSpaceWriteRate is the spaces.patch, spaces.delete and
	// messages.create calls allowed per second on one space.
	DefaultSpaceWriteRate = 1
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
	// hideAs404 answers a caller that is not in a space 404 NOT_FOUND
	// rather than 403 (see Server.visible).
	hideAs404 bool

	retryAfter                   bool
	createLimit, createLongLimit int
	longWindow                   time.Duration
	spaceRate                    int
	tokens                       map[string]string // bearer token → users/…
	admins                       map[string]bool   // normalised emails
	groups                       map[string]string // group email → its ID, for groups.lookup
}

func defaultConfig() config {
	return config{
		quotas:     [numClasses]int{DefaultSpaceQuota, DefaultMemberQuota, DefaultReadQuota, DefaultMessageQuota},
		window:     DefaultWindow,
		longWindow: DefaultLongWindow,
		spaceRate:  DefaultSpaceWriteRate,
		now:        time.Now,
		caller:     DefaultCaller,
		logger:     slog.New(slog.DiscardHandler),
	}
}

// WithSpaceQuota sets the space writes (create, setup, patch, delete) allowed per
// window; 0 turns the quota off.
func WithSpaceQuota(n int) Option { return func(c *config) { c.quotas[classSpaceWrite] = max(n, 0) } }

// WithMemberQuota sets the membership writes (members.create, members.patch,
// members.delete) allowed per window; 0 turns the quota off.
func WithMemberQuota(n int) Option { return func(c *config) { c.quotas[classMemberWrite] = max(n, 0) } }

// WithReadQuota sets the reads (get, list and search of spaces, get and list
// of members) allowed per window; 0 turns the quota off.
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
// (spaces.create, spaces.setup, messages.create) lose their answer: the
// space or message is made, then the connection is closed before any byte
// of the response is sent.
func WithLostResponseRate(f float64) Option { return func(c *config) { c.dropRate = clamp01(f) } }

// WithMessageQuota sets the message writes (messages.create) allowed per
// window; 0 turns the quota off.
func WithMessageQuota(n int) Option {
	return func(c *config) { c.quotas[classMessageWrite] = max(n, 0) }
}

// WithCreationLimit sets the space-creation limit, charged by spaces.create
// and spaces.setup on top of the space-write quota: at most perWindow
// creates in any window (WithWindow, default a minute) and at most
// perLongWindow in any long window (WithLongWindow, default an hour). 0
// turns either off; both are off unless set. A create refused by either is
// answered 429 RESOURCE_EXHAUSTED and charged nothing.
func WithCreationLimit(perWindow, perLongWindow int) Option {
	return func(c *config) { c.createLimit, c.createLongLimit = max(perWindow, 0), max(perLongWindow, 0) }
}

// WithLongWindow sets the window of the second creation limit (default an
// hour); tests scale it down with WithWindow.
func WithLongWindow(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.longWindow = d
		}
	}
}

// WithSpaceWriteRate sets the spaces.patch, spaces.delete and
// messages.create calls allowed per second on any one space (default 1); 0
// turns the limit off.
func WithSpaceWriteRate(n int) Option { return func(c *config) { c.spaceRate = max(n, 0) } }

// WithRetryAfter adds a Retry-After header (whole seconds until a call would
// be accepted) to 429 answers. Without it none is sent, as no source
// documents one on the Chat API's 429s.
func WithRetryAfter() Option { return func(c *config) { c.retryAfter = true } }

// WithToken requires every API call to carry "Authorization: Bearer tok";
// calls without credentials are answered 401 UNAUTHENTICATED with reason
// CREDENTIALS_MISSING, calls with another token 401 with reason
// ACCESS_TOKEN_TYPE_UNSUPPORTED. The call acts for the default caller
// (WithCaller). The token is never logged nor echoed.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithTokens maps bearer tokens to the callers they authenticate
// ("users/EMAIL"), so that one server sees several people: each call acts
// for its token's caller (spaces it may see, requestIds, roles). It can be
// combined with WithToken, whose token stands for the default caller. As
// with WithToken, a call without a known token is answered 401.
func WithTokens(tokens map[string]string) Option {
	return func(c *config) {
		if c.tokens == nil {
			c.tokens = make(map[string]string, len(tokens))
		}
		for tok, caller := range tokens {
			c.tokens[tok] = caller
		}
	}
}

// WithAdmins names the callers (by email, or "users/EMAIL") who are
// Workspace administrators: they alone may pass useAdminAccess=true, which
// lets spaces.search look through every space of the organization and lets
// get, patch, delete and the members calls act on spaces they are not in.
// Anyone else passing it is answered 403 PERMISSION_DENIED.
func WithAdmins(emails ...string) Option {
	return func(c *config) {
		if c.admins == nil {
			c.admins = make(map[string]bool)
		}
		for _, e := range emails {
			c.admins[normEmail(strings.TrimPrefix(e, "users/"))] = true
		}
	}
}

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

// WithCaller sets the default caller, "users/EMAIL" or "users/ID" (default
// DefaultCaller): the user every call acts for when no token says otherwise
// (WithTokens), and the one AddSpace and AddForeignSpace seed spaces for.
// A caller becomes an owner (ROLE_MANAGER) of every space it creates and
// must not be named in spaces.setup.
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

// WithNotFoundForNonMembers answers a call about a space the caller is not
// in (and cannot reach as an administrator) with 404 NOT_FOUND, as for a
// space that does not exist, rather than 403 PERMISSION_DENIED. Which of
// the two the real API gives is UNCERTAIN (docs/emulator.md): a client
// must survive both. Server.SetNotFoundForNonMembers changes it later.
func WithNotFoundForNonMembers() Option { return func(c *config) { c.hideAs404 = true } }

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

// WithGroups makes Cloud Identity's groups.lookup (GET
// /v1/groups:lookup?groupKey.id=EMAIL) know these groups: email → ID, the
// ID without its groups/ prefix.
func WithGroups(groups map[string]string) Option {
	return func(c *config) {
		if c.groups == nil {
			c.groups = make(map[string]string)
		}
		for email, id := range groups {
			c.groups[normEmail(email)] = strings.TrimPrefix(id, "groups/")
		}
	}
}

func clamp01(f float64) float64 { return min(max(f, 0), 1) }

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }
