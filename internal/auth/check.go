// The checks of --plan that read credentials without asking for a token.

package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"golang.org/x/oauth2/google"
)

// noADC is the error of ADC when none of its three sources has
// credentials.
func noADC(wellKnown string, err error) error {
	where := "gcloud's file"
	if wellKnown != "" {
		where = fmt.Sprintf("%q", wellKnown)
	}
	return &usageError{
		msg: fmt.Sprintf("no application default credentials found: GOOGLE_APPLICATION_CREDENTIALS is unset, %s does not exist, and no Google Cloud metadata server answered; run gcloud auth application-default login (see docs/auth.md), or choose another --auth mode", where),
		err: err,
	}
}

var errSubjectMetadata = usagef("--subject needs application default credentials that are a service-account key, not the metadata server's")

// checkADC finds application default credentials as newADC does, and
// checks a file found as it does, but asks for no token: the metadata
// server is only asked whether it is there.
func checkADC(cfg Config) error {
	params := google.CredentialsParams{Scopes: cfg.Scopes, Subject: cfg.Subject}
	if p := cfg.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		_, _, err := readADCFile(p, " (from GOOGLE_APPLICATION_CREDENTIALS)", params)
		return err
	}
	wellKnown := gcloudADCFile(cfg.Getenv)
	if wellKnown != "" {
		if _, err := os.Stat(wellKnown); !errors.Is(err, fs.ErrNotExist) {
			_, _, err := readADCFile(wellKnown, " (gcloud's application default credentials)", params)
			return err
		}
	}
	if err := metadataServer(cfg, params); err != nil {
		return noADC(wellKnown, err)
	}
	if cfg.Subject != "" {
		return errSubjectMetadata
	}
	return nil
}

// metadataServer says whether a Google Cloud metadata server answers.
// Google's libraries take GCE_METADATA_HOST, when it is set, for a server
// that is there without asking it (their OnGCE); the run then fails at its
// first token. Here it is asked, so that a plan fails where the run would.
// Unset, the libraries' own probe decides, as in the run. (Read through
// cfg.Getenv first, then the process environment the libraries read.)
func metadataServer(cfg Config, params google.CredentialsParams) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cfg.findDefault != nil {
		_, err := cfg.findDefault(ctx, params)
		return err
	}
	host := cfg.Getenv("GCE_METADATA_HOST")
	if host == "" {
		host = os.Getenv("GCE_METADATA_HOST")
	}
	if host == "" {
		_, err := google.FindDefaultCredentialsWithParams(ctx, params)
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/computeMetadata/v1/", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Metadata-Flavor", "Google")
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.Header.Get("Metadata-Flavor") != "Google" {
		return fmt.Errorf("GCE_METADATA_HOST %q answered %s, not as a metadata server", host, resp.Status)
	}
	return nil
}

// checkUserCache checks the token cache of --auth user as newUser does
// before it refreshes the token: without a usable cache and without a
// terminal to ask for consent on, the run is refused, and so is the plan.
func checkUserCache(cfg Config, f *credFile) error {
	if cfg.Interactive {
		return nil
	}
	conf, err := google.ConfigFromJSON(f.data, withIdentityScopes(cfg.Scopes)...)
	if err != nil {
		return usagef("credentials file %q: %w", f.path, err)
	}
	path := cfg.TokenCache
	if path == "" {
		if path, err = DefaultTokenCache(); err != nil {
			return usagef("%w; give --token-cache FILE", err)
		}
	}
	if _, reason := readTokenCache(path, conf.ClientID, cfg.Scopes, slog.New(slog.DiscardHandler), false); reason != "" {
		return usagef("%s, and there is no terminal to ask for consent: run provision --auth user once from a terminal to renew the token cache, or use --auth service-account for scheduled runs", reason)
	}
	return nil
}
