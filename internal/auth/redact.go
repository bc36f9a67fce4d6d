package auth

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// The secrets this process has handled: every access token a TokenSource
// of New handed out, and the password and query values of endpoints. A
// message from a server may echo any of them (an Authorization header
// quoted back, a URL in an error); Redact takes them out of everything
// printed or stored.
var secrets struct {
	sync.Mutex
	list []string // longest first, so that a secret inside another goes too
}

// minSecret is the shortest string kept as a secret: shorter ones (a
// port-like query value) would redact common words.
const minSecret = 4

func remember(s string) {
	if len(s) < minSecret {
		return
	}
	// The forms a server may echo it in: as sent in a URL or a form, and
	// base64 (an Authorization: Basic header carries user:password so).
	b64 := base64.StdEncoding.EncodeToString([]byte(s))
	for _, form := range []string{url.QueryEscape(s), url.PathEscape(s), b64, url.QueryEscape(b64)} {
		if form != s {
			rememberOne(form)
		}
	}
	rememberOne(s)
}

func rememberOne(s string) {
	secrets.Lock()
	defer secrets.Unlock()
	if slices.Contains(secrets.list, s) {
		return
	}
	// A new slice each time: Redact reads the old one without the lock.
	list := append(slices.Clone(secrets.list), s)
	slices.SortFunc(list, func(a, b string) int { return len(b) - len(a) })
	secrets.list = list
}

// bearer matches an Authorization value wherever it is quoted, and the
// shape of Google's access tokens (ya29.…) and of OAuth refresh tokens
// (1//…), which are secrets whoever sent them.
var bearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s|%20|\+)+[A-Za-z0-9._~+/=%-]+|\bya29\.[A-Za-z0-9._~+/=%-]+|\b1//[A-Za-z0-9._~+/=%-]{10,}`)

// Redact returns s with every known secret and anything shaped like an
// access token replaced by "[redacted]". It is for every message printed,
// logged or stored in the results file.
func Redact(s string) string {
	if s == "" {
		return s
	}
	secrets.Lock()
	list := secrets.list
	secrets.Unlock()
	for _, sec := range list {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return bearer.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case len(m) > 6 && strings.EqualFold(m[:6], "bearer"):
			return m[:6] + " [redacted]"
		case len(m) > 5 && strings.EqualFold(m[:5], "basic"):
			return m[:5] + " [redacted]"
		}
		return "[redacted]"
	})
}

// RedactURL is u with its password and query values hidden, for messages;
// the same text as u when it has neither. It also remembers them as
// secrets, so that Redact hides them wherever a server echoes them.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an unparsable URL)"
	}
	if _, ok := p.User.Password(); !ok && p.RawQuery == "" {
		return u
	}
	if pw, ok := p.User.Password(); ok {
		remember(pw)
		remember(p.User.Username() + ":" + pw) // as Basic authentication sends it
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k, vs := range q {
			for i, v := range vs {
				remember(v)
				vs[i] = "xxxxx"
			}
			q[k] = vs
		}
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// rememberingSource hands out the tokens of ts, remembering each as a
// secret.
type rememberingSource struct{ ts oauth2.TokenSource }

func (r rememberingSource) Token() (*oauth2.Token, error) {
	t, err := r.ts.Token()
	if t != nil {
		remember(t.AccessToken)
		remember(t.RefreshToken)
	}
	return t, err
}
