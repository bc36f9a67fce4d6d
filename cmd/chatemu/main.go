// Command chatemu serves the Chat API emulator of internal/chatemu on a real
// port, for the README's demo, benchmarks and manual runs of provision.
//
// Usage:
//
//	chatemu [flags]
//
// The first line on stdout is the base URL to pass to provision --endpoint
// (http://127.0.0.1:PORT/); logs go to stderr. SIGINT or SIGTERM stops it.
// Flags:
//
//	--addr HOST:PORT     listen address (default 127.0.0.1:0, a free port)
//	--space-quota N      space writes per window, 0 = no limit (default 60)
//	--member-quota N     membership writes per window, 0 = no limit (default 300)
//	--read-quota N       reads per window, 0 = no limit (default 3000)
//	--message-quota N    message writes per window, 0 = no limit (default 3000)
//	--space-write-rate N spaces.patch, spaces.delete, messages.create per
//	                     second on one space, 0 = no limit (default 1)
//	--create-quota N     spaces created (create, setup) per window, 0 = no
//	                     limit (default 0)
//	--create-hourly-quota N
//	                     spaces created per long window, 0 = no limit (default 0)
//	--window D           quota window (default 1m)
//	--long-window D      window of --create-hourly-quota (default 1h)
//	--retry-after        send Retry-After with 429s (default: none, as Google)
//	--latency D          delay added to every API call
//	--fail-rate F        fraction of calls answered 503 UNAVAILABLE
//	--drop-rate F        fraction of creates whose answer is lost
//	--token T            bearer token every call must carry; it stands for --caller
//	--caller users/EMAIL default caller (default users/caller@example.com)
//	--user-token TOKEN=users/EMAIL
//	                     a bearer token for another caller (repeatable)
//	--admin EMAIL        a caller allowed useAdminAccess (repeatable)
//	--foreign-space NAME=ROLE
//	                     seed a space someone else owns, with the caller's
//	                     role in it: none, member, manager or owner (repeatable)
//	--seed N             seed for IDs and faults (0: random)
//	-v                   log every call on stderr
//
// See docs/emulator.md for what it models and what it does not.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
