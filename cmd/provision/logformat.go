// Logs for Cloud Logging and Loki: --log-format json writes every line of
// stderr as one JSON object.

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"provision/internal/auth"
)

// logFormats are the values of --log-format.
var logFormats = []string{"text", "json"}

// severity is Cloud Logging's name for a slog level (LogSeverity:
// DEBUG, INFO, WARNING, ERROR; cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry).
func severity(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	}
	return "ERROR"
}

// jsonHandler writes one JSON object a line to w, with Cloud Logging's
// field names: severity, message, time (RFC 3339), then the record's own
// attributes. Every string is redacted again on the way out, as in text
// mode the messages are at their source: nothing secret in either.
func jsonHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 {
			switch a.Key {
			case slog.LevelKey:
				l, _ := a.Value.Any().(slog.Level)
				return slog.String("severity", severity(l))
			case slog.MessageKey:
				return slog.String("message", auth.Redact(a.Value.String()))
			}
		}
		return redactAttr(nil, a)
	}})
}

// redactAttr takes any credential out of a log attribute's text, a string
// or an error, on its way out in either format.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(auth.Redact(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(auth.Redact(err.Error()))
		}
	}
	return a
}

// jsonLines is stderr in json mode: each line written to it (a progress
// line, a failure, a warning, the message of a stop) becomes one record of
// h, its severity and structured fields told from the line (lineRecord).
// Blank lines, which only space out text for a reader, are dropped.
type jsonLines struct {
	mu   sync.Mutex
	h    slog.Handler
	buf  []byte
	last slog.Level // the level of the line before, for a continuation line
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			break
		}
		line := string(j.buf[:i])
		j.buf = j.buf[i+1:]
		j.emit(line)
	}
	return len(p), nil
}

// flush writes what is left of a line without its newline.
func (j *jsonLines) flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) > 0 {
		j.emit(string(j.buf))
		j.buf = nil
	}
}

func (j *jsonLines) emit(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	level, attrs, ok := lineRecord(line)
	if !ok {
		level = j.last
	}
	j.last = level
	r := slog.NewRecord(time.Now(), level, line, 0)
	r.AddAttrs(attrs...)
	j.h.Handle(context.Background(), r)
}

var (
	problemLine = regexp.MustCompile(`^[^\s:]+:\d+:\d+: `)
	countLine   = regexp.MustCompile(`: (\d+)/(\d+) `)
	waitLine    = regexp.MustCompile(`resuming in (\S+), `)
)

// lineRecord tells a plain line's severity by its prefix, and the fields
// it carries: the space a failure or warning names (its first quoted
// string), how far progress is, how long a quota wait lasts. ok is false
// for a line that does not say: it continues the line before.
func lineRecord(line string) (level slog.Level, attrs []slog.Attr, ok bool) {
	prefix, rest, _ := strings.Cut(line, ": ")
	switch {
	case prefix == "failed":
		level, ok = slog.LevelError, true
	case prefix == "warning":
		level, ok = slog.LevelWarn, true
	case prefix == "provision" && strings.HasPrefix(rest, "interrupted"):
		level, ok = slog.LevelWarn, true
	case prefix == "provision":
		level, ok = slog.LevelError, true
	case prefix == "hint" || prefix == "progress" || prefix == "refresh":
		level, ok = slog.LevelInfo, true
	case problemLine.MatchString(line):
		level, ok = slog.LevelError, true
	default:
		return slog.LevelInfo, nil, false
	}
	switch prefix {
	case "failed", "warning":
		if i := strings.IndexByte(rest, '"'); i >= 0 {
			if q, err := strconv.QuotedPrefix(rest[i:]); err == nil {
				if s, err := strconv.Unquote(q); err == nil {
					attrs = append(attrs, slog.String("space", s))
				}
			}
		}
	case "progress", "refresh":
		if m := countLine.FindStringSubmatch(line); m != nil {
			done, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			attrs = append(attrs, slog.Int("done", done), slog.Int("total", total))
		}
		if m := waitLine.FindStringSubmatch(line); m != nil {
			attrs = append(attrs, slog.String("wait", m[1]))
		}
	}
	return level, attrs, true
}
