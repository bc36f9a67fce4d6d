package main

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

// defaults is what parseArgs returns for no arguments at all.
func defaults() options {
	return options{
		config:         "spaces.yaml",
		results:        "spaces.results.json",
		endpoint:       "https://chat.googleapis.com/",
		groupsEndpoint: "https://cloudidentity.googleapis.com/",
		auth:           "adc",
		customer:       "customers/my_customer",
		rate:           30,
		memberRate:     300,
		concurrency:    4,
		maxAttempts:    6,
		timeout:        30 * time.Second,
		maxWait:        65 * time.Minute, // longer than the hourly creation window
		maxDeletions:   10,
		maxRemovals:    100,
		logFormat:      "text",
		lockLease:      time.Minute,
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want func(o *options) // applied to defaults()
	}{
		{nil, func(o *options) {}},
		{[]string{"team.yaml"}, func(o *options) { o.config, o.results = "team.yaml", "team.results.json" }},
		{[]string{"--log-format", "json"}, func(o *options) { o.logFormat = "json" }},
		{[]string{"dir/cohort.yml"}, func(o *options) { o.config, o.results = "dir/cohort.yml", "dir/cohort.results.json" }},
		{[]string{"noext"}, func(o *options) { o.config, o.results = "noext", "noext.results.json" }},
		{[]string{"--plan"}, func(o *options) { o.plan = true }},
		{[]string{"-plan", "-json"}, func(o *options) { o.plan, o.json = true, true }},
		{[]string{"--json"}, func(o *options) { o.json = true }},
		{[]string{"--results", "out.json", "a.yaml"}, func(o *options) { o.config, o.results = "a.yaml", "out.json" }},
		{[]string{"--endpoint", "http://127.0.0.1:8080"}, func(o *options) { o.endpoint = "http://127.0.0.1:8080/" }},
		{[]string{"--endpoint", "https://proxy.example.com/chat/"}, func(o *options) { o.endpoint = "https://proxy.example.com/chat/" }},
		{[]string{"--auth", "none"}, func(o *options) { o.auth = "none" }},
		{[]string{"--auth", "user", "--credentials", "client.json", "--token-cache", "tok.json"}, func(o *options) {
			o.auth, o.credentials, o.tokenCache = "user", "client.json", "tok.json"
		}},
		{[]string{"--auth", "service-account", "--credentials", "key.json", "--subject", "Admin@Example.com"}, func(o *options) {
			o.auth, o.credentials, o.subject, o.caller = "service-account", "key.json", "Admin@Example.com", "users/admin@example.com"
		}},
		{[]string{"--auth", "app", "--credentials", "key.json", "--customer", "customers/C0123"}, func(o *options) {
			o.auth, o.credentials, o.customer = "app", "key.json", "customers/C0123"
		}},
		{[]string{"--auth", "token", "--caller", "me@example.com"}, func(o *options) { o.auth, o.caller = "token", "users/me@example.com" }},
		{[]string{"--rate", "0"}, func(o *options) { o.rate = 0 }},
		{[]string{"--rate", "12.5", "--member-rate", "0"}, func(o *options) { o.rate, o.memberRate = 12.5, 0 }},
		{[]string{"--concurrency", "256", "--max-attempts", "1"}, func(o *options) { o.concurrency, o.maxAttempts = 256, 1 }},
		{[]string{"--max-attempts", "100"}, func(o *options) { o.maxAttempts = 100 }},
		{[]string{"--timeout", "1m30s"}, func(o *options) { o.timeout = 90 * time.Second }},
		{[]string{"--refresh", "-v"}, func(o *options) { o.refresh, o.verbose = true, true }},
		{[]string{"--max-wait", "2h", "--adopt"}, func(o *options) { o.maxWait, o.adopt = 2*time.Hour, true }},
		{[]string{"--max-wait", "1s"}, func(o *options) { o.maxWait = time.Second }},
		{[]string{"--max-wait", "30m"}, func(o *options) { o.maxWait = 30 * time.Minute }},
		{[]string{"--plan", "--refresh"}, func(o *options) { o.plan, o.refresh = true, true }},
		{[]string{"--prune", "--prune-members", "--admin"}, func(o *options) { o.prune, o.pruneMembers, o.admin = true, true, true }},
		{[]string{"--prune", "--max-deletions", "12"}, func(o *options) { o.prune, o.maxDeletions = true, 12 }},
		{[]string{"--max-deletions", "0", "--max-removals", "0"}, func(o *options) { o.maxDeletions, o.maxRemovals = 0, 0 }},
		{[]string{"--prune-members", "--max-removals=1000000"}, func(o *options) { o.pruneMembers, o.maxRemovals = true, 1000000 }},
		// Flags may follow the config, as people type them.
		{[]string{"a.yaml", "--plan", "--rate", "0"}, func(o *options) { o.config, o.results, o.plan, o.rate = "a.yaml", "a.results.json", true, 0 }},
		{[]string{"--", "-odd.yaml"}, func(o *options) { o.config, o.results = "-odd.yaml", "-odd.results.json" }},
		{[]string{"--results", "gs://my-bucket/prod/spaces.results.json", "--lock-lease", "30s"}, func(o *options) {
			o.results, o.lockLease = "gs://my-bucket/prod/spaces.results.json", 30*time.Second
		}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var help bytes.Buffer
			got, err := parseArgs(tc.args, &help)
			if err != nil {
				t.Fatalf("parseArgs(%q) = %v, want no error", tc.args, err)
			}
			want := defaults()
			tc.want(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("parseArgs(%q) = %+v, want %+v", tc.args, *got, want)
			}
			if help.Len() != 0 {
				t.Errorf("parseArgs(%q) wrote %q, want nothing", tc.args, help.String())
			}
		})
	}
}

func TestParseArgsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--rate"}, "flag needs an argument: -rate"},
		{[]string{"--rate", "fast"}, `invalid value "fast" for flag -rate`},
		{[]string{"--rate", "-1"}, "--rate must be 0 (no limit) or more, got -1"},
		{[]string{"--member-rate", "-0.5"}, "--member-rate must be 0 (no limit) or more, got -0.5"},
		{[]string{"--rate", "1e-300"}, "--rate 1e-300 is under one call a day: a run could never finish"},
		{[]string{"--rate", "NaN"}, "--rate must be a number, got NaN"},
		{[]string{"--member-rate", "+Inf"}, "--member-rate must be a number, got +Inf"},
		{[]string{"--endpoint", "http://127.0.0.1:99999/"}, `--endpoint "http://127.0.0.1:99999/": port 99999 is not a port (1 to 65535)`},
		{[]string{"--endpoint", "http://user:s3cretpw@host:0/"}, `port 0 is not a port`},
		{[]string{"--concurrency", "0"}, "--concurrency must be between 1 and 256, got 0"},
		{[]string{"--concurrency", "257"}, "--concurrency must be between 1 and 256, got 257"},
		{[]string{"--concurrency", "two"}, `invalid value "two" for flag -concurrency`},
		{[]string{"--max-attempts", "0"}, "--max-attempts must be between 1 and 100, got 0"},
		{[]string{"--max-attempts", "101"}, "--max-attempts must be between 1 and 100, got 101"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive, got 0s"},
		{[]string{"--timeout", "-1s"}, "--timeout must be positive, got -1s"},
		{[]string{"--timeout", "30"}, `invalid value "30" for flag -timeout`},
		{[]string{"--max-wait", "0s"}, "--max-wait must be between 1s and 168h, got 0s"},
		{[]string{"--max-wait", "-5m"}, "--max-wait must be between 1s and 168h, got -5m0s"},
		{[]string{"--max-wait", "169h"}, "--max-wait must be between 1s and 168h, got 169h0m0s"},
		{[]string{"--lock-lease", "2s"}, "--lock-lease must be between 3s and 1h, got 2s"},
		{[]string{"--lock-lease", "2h"}, "--lock-lease must be between 3s and 1h, got 2h0m0s"},
		{[]string{"--results", "gs://Bad_Bucket/x.json"}, `"Bad_Bucket" is not a Cloud Storage bucket name`},
		{[]string{"--results", "gs://bucket"}, `"gs://bucket" names no object`},
		{[]string{"import", "--results", "gs://bucket/x.json", "x.yaml"}, "provision import writes its results file on local disk, not in a bucket"},
		{[]string{"--max-deletions", "-1"}, "--max-deletions must be 0 (none allowed) or more, got -1"},
		{[]string{"--max-removals", "-5"}, "--max-removals must be 0 (none allowed) or more, got -5"},
		{[]string{"--max-deletions", "ten"}, `invalid value "ten" for flag -max-deletions`},
		{[]string{"--max-removals", "1.5"}, `invalid value "1.5" for flag -max-removals`},
		{[]string{"--adopt=sometimes"}, `invalid boolean value "sometimes" for -adopt`},
		{[]string{"--plan=maybe"}, `invalid boolean value "maybe" for -plan`},
		{[]string{"a.yaml", "b.yaml"}, `one config file expected, got 2 arguments: ["a.yaml" "b.yaml"]`},
		{[]string{"--plan", "a.yaml", "b.yaml", "--json"}, `one config file expected, got 2 arguments: ["a.yaml" "b.yaml"]`},
		{[]string{""}, "the config file name is empty"},
		{[]string{"--results", "a.yaml", "a.yaml"}, `--results "a.yaml" would overwrite the config file`},
		{[]string{"--admin", "--auth", "app", "--credentials", "k.json"}, "--admin is a Workspace administrator's privilege; a Chat app (--auth app) has none"},
		{[]string{"--log-format", "xml"}, `--log-format "xml" is not a format; use one of text, json`},
		{[]string{"--auth", "password"}, `--auth "password" is not a mode; use one of user, service-account, app, adc, token, none`},
		{[]string{"--auth", ""}, `--auth "" is not a mode`},
		{[]string{"--subject", "a@example.com", "--auth", "token"}, `--subject is for --auth service-account (or adc with a service-account key), not "token"`},
		{[]string{"--customer", "C0123"}, `--customer "C0123" must look like customers/ID`},
		{[]string{"--customer", "customers/"}, `--customer "customers/" must look like customers/ID`},
		{[]string{"--caller", "groups/abc"}, `--caller "groups/abc" is not a user's email or users/ID`},
		{[]string{"--caller", "not an email"}, `--caller "not an email" is not a user's email or users/ID`},
		{[]string{"--endpoint", "chat.googleapis.com"}, `--endpoint "chat.googleapis.com" is not an http(s) URL`},
		{[]string{"--endpoint", "ftp://127.0.0.1/"}, `--endpoint "ftp://127.0.0.1/" is not an http(s) URL`},
		{[]string{"--endpoint", "http://"}, `--endpoint "http://" is not an http(s) URL`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var help bytes.Buffer
			o, err := parseArgs(tc.args, &help)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseArgs(%q) = %+v, %v; want a usageError", tc.args, o, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseArgs(%q) = %q, want it to say %q", tc.args, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("parseArgs(%q) = %q shows the endpoint's password", tc.args, err)
			}
			if help.Len() != 0 {
				t.Errorf("parseArgs(%q) wrote %q, want nothing (run prints the error)", tc.args, help.String())
			}
		})
	}
}

// TestParseArgsHelp: -h prints the manual to the help writer and returns
// flag.ErrHelp, which run maps to exit 0.
func TestParseArgsHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		var help bytes.Buffer
		o, err := parseArgs([]string{"--plan", arg}, &help)
		if !errors.Is(err, flag.ErrHelp) || o != nil {
			t.Errorf("parseArgs(%q) = %v, %v; want nil, flag.ErrHelp", arg, o, err)
		}
		for _, want := range []string{"Usage: provision", "-concurrency", "Exit status:", "130"} {
			if !strings.Contains(help.String(), want) {
				t.Errorf("parseArgs(%q) help does not mention %q", arg, want)
			}
		}
	}
}
