// Where the state lives: a results file on local disk, or gs://BUCKET/OBJECT
// in Cloud Storage. The applier is handed a results.Handle either way.

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"provision/internal/auth"
	"provision/internal/plan"
	"provision/internal/results"
)

// emulatorEnv points the Cloud Storage client at an emulator, as the
// official client reads it: HOST:PORT, or a URL.
const emulatorEnv = "STORAGE_EMULATOR_HOST"

// openState takes the lock of the state and reads it, for a run. Every
// refusal (the lock held, the bucket missing, no permission, an object
// that is not a results file) is a usage error: nothing was called yet.
func (e *env) openState(ctx context.Context, o *options, cfg *plan.Config, creds *auth.Credentials) (results.Handle, error) {
	if !results.IsRemote(o.results) {
		s, err := results.Open(o.results)
		if err != nil {
			return nil, usageError{err}
		}
		return s, nil
	}
	obj, p, err := e.bucket(ctx, o, cfg, creds)
	if err != nil {
		return nil, err
	}
	r, err := results.OpenRemote(ctx, obj, p.Object, results.RemoteOptions{
		Lease:   o.lockLease,
		Version: readBuildInfo().Version,
		Notify:  func(s string) { fmt.Fprintf(e.stderr, "provision: %s\n", s) },
		Logger:  e.logger(o),
	})
	if err != nil {
		return nil, usageError{stateError(p, err)}
	}
	return r, nil
}

// loadState reads the state without the lock, for --plan and --export.
func (e *env) loadState(ctx context.Context, o *options, cfg *plan.Config, creds *auth.Credentials) (*results.File, error) {
	if !results.IsRemote(o.results) {
		return results.Load(o.results)
	}
	obj, p, err := e.bucket(ctx, o, cfg, creds)
	if err != nil {
		return nil, err
	}
	f, err := results.LoadRemote(ctx, obj, p.Object)
	if err != nil {
		return nil, stateError(p, err)
	}
	return f, nil
}

// stateError says what to do about a bucket the run cannot use.
func stateError(p results.RemotePath, err error) error {
	switch {
	case errors.Is(err, results.ErrNoBucket):
		return fmt.Errorf("%w; create it (gcloud storage buckets create gs://%s) or correct --results", err, p.Bucket)
	case errors.Is(err, results.ErrForbidden):
		return fmt.Errorf("%w; grant the run's identity roles/storage.objectUser on gs://%s (docs/auth.md)", err, p.Bucket)
	}
	return err
}

// bucket makes the Cloud Storage client of a gs:// state. With
// STORAGE_EMULATOR_HOST set it sends no credentials, as the official
// client does; otherwise the credentials of --auth, with the storage
// scope (auth.StorageConfig).
func (e *env) bucket(ctx context.Context, o *options, cfg *plan.Config, creds *auth.Credentials) (results.Objects, results.RemotePath, error) {
	p, err := results.ParseRemote(o.results)
	if err != nil {
		return nil, p, usagef("--results: %w", err)
	}
	if e.gcs != nil {
		return results.GCS(e.gcs, p.Bucket), p, nil
	}
	opts := []option.ClientOption{storage.WithJSONReads()}
	if host := e.getenv(emulatorEnv); host != "" {
		endpoint := host
		if !strings.Contains(host, "://") {
			endpoint = "http://" + host
		}
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			return nil, p, usagef("%s=%q is not HOST:PORT or a URL", emulatorEnv, host)
		}
		if o.auth == string(auth.None) && !auth.IsLoopback(u.Hostname()) {
			// As for the Chat endpoint: --auth none is for emulators on
			// this machine, and the state would go to any other host in
			// plain text, for anyone on the way to read or change.
			return nil, p, usagef("--auth none is only for emulators on this machine: %s=%q is not a loopback address (127.0.0.0/8, ::1, localhost)", emulatorEnv, auth.RedactURL(host))
		}
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(endpoint, "/")+"/storage/v1/"), option.WithoutAuthentication())
	} else {
		if o.auth == string(auth.None) {
			return nil, p, usagef("--results %s: --auth none sends no credentials, and Cloud Storage needs them; set %s to use an emulator", o.results, emulatorEnv)
		}
		base := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: o.timeout + 5*time.Second}
		scfg := auth.StorageConfig(e.authConfig(o, cfg, base, nil))
		sc := creds
		if sc == nil || o.auth != string(auth.User) {
			if sc, err = auth.New(ctx, scfg); err != nil {
				return nil, p, usagef("credentials for Cloud Storage: %w", err)
			}
		}
		opts = append(opts, option.WithHTTPClient(sc.HTTPClient))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, p, usagef("setting up the Cloud Storage client: %w", err)
	}
	e.gcs = client
	return results.GCS(client, p.Bucket), p, nil
}

// scopes are the Chat scopes the run needs, and the storage scope where
// one token carries both (--auth user with a gs:// state).
func (e *env) scopes(o *options, cfg *plan.Config) []string {
	s := auth.ScopesFor(auth.Mode(o.auth), needs(o, cfg))
	if results.IsRemote(o.results) {
		s = auth.WithStorage(auth.Mode(o.auth), s)
	}
	return s
}
