package chatemu

import (
	"net/http"
	"strconv"
	"time"
)

// class is a quota class: each call is charged to exactly one.
type class uint8

const (
	classSpaceWrite class = iota
	classMemberWrite
	classRead
	classMessageWrite
	numClasses
)

// quota names a limit as Google's 429 answers do: the metric and limit in
// words for the message, and their identifiers for the ErrorInfo metadata.
// The Limits page (developers.google.com/workspace/chat/limits) gives the
// figures; the identifiers are shaped like those of other Google APIs seen on
// the wire (Wire) and are UNCERTAIN for Chat: no capture of a Chat 429 body
// was found.
type quota struct {
	metric, limit     string // "Space write requests", "… per minute per project"
	metricID, limitID string // "chat.googleapis.com/space_write_requests", "SpaceWriteRequestsPerMinutePerProject"
}

var classQuotas = [numClasses]quota{
	classSpaceWrite:   {"Space write requests", "Space write requests per minute per project", "chat.googleapis.com/space_write_requests", "SpaceWriteRequestsPerMinutePerProject"},
	classMemberWrite:  {"Membership write requests", "Membership write requests per minute per project", "chat.googleapis.com/membership_write_requests", "MembershipWriteRequestsPerMinutePerProject"},
	classRead:         {"Read requests", "Read requests per minute per project", "chat.googleapis.com/read_requests", "ReadRequestsPerMinutePerProject"},
	classMessageWrite: {"Message write requests", "Message write requests per minute per project", "chat.googleapis.com/message_write_requests", "MessageWriteRequestsPerMinutePerProject"},
}

// The space-creation limit (Limits: "create less than 35 spaces per minute"
// plus an hourly cap; an older page said 10 per minute and 60 per hour),
// charged by spaces.create and spaces.setup on top of space writes. Whether
// Google counts it per user or per project is UNCERTAIN; the emulator counts
// it per server, like every other quota.
var (
	createQuota     = quota{"Space creation requests", "Space creation requests per minute", "chat.googleapis.com/space_creation_requests", "SpaceCreationRequestsPerMinute"}
	createLongQuota = quota{"Space creation requests", "Space creation requests per hour", "chat.googleapis.com/space_creation_requests", "SpaceCreationRequestsPerHour"}
	// Limits: "1 write per second" per space for spaces.patch and
	// spaces.delete.
	spaceRateQuota = quota{"Per-space write requests", "Write requests per second per space", "chat.googleapis.com/per_space_write_requests", "WriteRequestsPerSecondPerSpace"}
)

// consumer is the project every call is charged to, as Google names it in
// 429 answers.
const consumer = "000000000000"

// quotaError is a 429 RESOURCE_EXHAUSTED in the shape Google gives other
// APIs' quota errors (Wire): the message names metric, limit, service and
// consumer; an ErrorInfo carries the same as metadata, and a Help detail
// links to the quota page. Retry-After is sent only with WithRetryAfter: no
// source documents it on Chat 429s, and GAM7 ignores it.
func (s *Server) quotaError(q quota, limit int, wait time.Duration) *apiError {
	e := newError(statusResourceExhausted,
		"Quota exceeded for quota metric '%s' and limit '%s' of service 'chat.googleapis.com' for consumer 'project_number:%s'.",
		q.metric, q.limit, consumer)
	e.Details = []any{
		errorInfo("RATE_LIMIT_EXCEEDED", map[string]string{
			"service":           "chat.googleapis.com",
			"consumer":          "projects/" + consumer,
			"quota_metric":      q.metricID,
			"quota_limit":       q.limitID,
			"quota_limit_value": strconv.Itoa(limit),
		}),
		map[string]any{
			"@type": "type.googleapis.com/google.rpc.Help",
			"links": []map[string]string{{
				"description": "Request a higher quota limit.",
				"url":         "https://cloud.google.com/docs/quotas/help/request_increase",
			}},
		},
	}
	if s.cfg.retryAfter {
		secs := int((wait + time.Second - 1) / time.Second)
		e.header = http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}}
	}
	return e
}

// window is a sliding-window limiter: it accepts a call when fewer than limit
// calls were accepted in the last span. It keeps the times of the last limit
// accepted calls in a ring, so a check is O(1) whatever the rate. Rejected
// calls are not recorded, so they do not count against later ones.
type window struct {
	limit int           // 0: no limit
	span  time.Duration // 0: the server's window
	ring  []time.Time
	head  int // index of the oldest entry once the ring is full
}

// check reports whether a call at now would be accepted, or how long until
// one would be, without recording anything.
func (w *window) check(now time.Time, span time.Duration) (ok bool, wait time.Duration) {
	if w.span > 0 {
		span = w.span
	}
	if w.limit == 0 || len(w.ring) < w.limit {
		return true, 0
	}
	if age := now.Sub(w.ring[w.head]); age < span {
		return false, span - age
	}
	return true, 0
}

// commit records a call accepted at now; check must have allowed it.
func (w *window) commit(now time.Time) {
	switch {
	case w.limit == 0:
	case len(w.ring) < w.limit:
		w.ring = append(w.ring, now)
	default:
		w.ring[w.head] = now
		w.head = (w.head + 1) % w.limit
	}
}

// take accepts a call at now, or returns how long until one would be.
func (w *window) take(now time.Time, span time.Duration) (ok bool, wait time.Duration) {
	if ok, wait = w.check(now, span); ok {
		w.commit(now)
	}
	return ok, wait
}

// admit charges a call to every limit it falls under, or to none: a call
// refused by one limit is not counted by the others. It returns the 429 to
// send, if any.
func (s *Server) admit(rt *route, c *call) *apiError {
	now := c.now
	type charge struct {
		w     *window
		q     quota
		limit int
		ctr   *int
	}
	var charges [4]charge
	n := 0
	charges[n] = charge{&s.win[rt.class], classQuotas[rt.class], s.cfg.quotas[rt.class], nil}
	n++
	if rt.creates {
		charges[n] = charge{&s.createWin, createQuota, s.cfg.createLimit, &s.ctr.createLimited}
		n++
		charges[n] = charge{&s.createLongWin, createLongQuota, s.cfg.createLongLimit, &s.ctr.createLimitedLong}
		n++
	}
	// Only writes to a space that exists count against its limit.
	if rt.perSpace && s.cfg.spaceRate > 0 && s.st.spaces[c.args[0]] != nil {
		w := s.spaceWin[c.args[0]]
		if w == nil {
			w = &window{limit: s.cfg.spaceRate, span: time.Second}
			s.spaceWin[c.args[0]] = w
		}
		charges[n] = charge{w, spaceRateQuota, s.cfg.spaceRate, nil}
		n++
	}
	for _, ch := range charges[:n] {
		if ok, wait := ch.w.check(now, s.cfg.window); !ok {
			s.ctr.throttled++
			if ch.ctr != nil {
				*ch.ctr++
			}
			return s.quotaError(ch.q, ch.limit, wait)
		}
	}
	for _, ch := range charges[:n] {
		ch.w.commit(now)
	}
	switch rt.class {
	case classSpaceWrite:
		s.ctr.spaceWrites = append(s.ctr.spaceWrites, now)
	case classMemberWrite:
		s.ctr.memberWrites = append(s.ctr.memberWrites, now)
	}
	if rt.creates {
		s.ctr.creates = append(s.ctr.creates, now)
	}
	return nil
}
