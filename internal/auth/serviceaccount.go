package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// newServiceAccount serves ServiceAccount (a JWT with the subject to
// impersonate) and App (a JWT without one, with chat.app.* scopes).
func newServiceAccount(tsCtx context.Context, cfg Config) (*Credentials, error) {
	f, err := readCredentials(cfg.Credentials, "")
	if err != nil {
		return nil, err
	}
	if f.kind != kindServiceAccount {
		return nil, f.wrongKind(cfg.Mode, "a service-account key (JSON) from Cloud console > IAM & Admin > Service accounts > Keys")
	}
	if err := f.checkKey(); err != nil {
		return nil, err
	}
	// JWTConfigFromJSON honours the key's token_uri, which is how tests
	// stand in for Google's token endpoint.
	jc, err := google.JWTConfigFromJSON(f.data, cfg.Scopes...)
	if err != nil {
		return nil, usagef("service-account key %q: %w", f.path, err)
	}
	c := &Credentials{Scopes: cfg.Scopes}
	var advice func(code string) string
	if cfg.Mode == ServiceAccount {
		jc.Subject = cfg.Subject
		c.Email = strings.ToLower(cfg.Subject)
		c.Identity = fmt.Sprintf("service account %s impersonating %s", f.ClientEmail, cfg.Subject)
		advice = func(code string) string {
			switch code {
			case "unauthorized_client", "access_denied":
				return fmt.Sprintf("domain-wide delegation is not set up: in the Admin console (Security > Access and data control > API controls > Manage Domain Wide Delegation), add client ID %s with the scopes %s", f.ClientID, strings.Join(cfg.Scopes, ","))
			case "invalid_grant":
				return fmt.Sprintf("check that %q is an active user of the domain and that the key has not been deleted", cfg.Subject)
			}
			return ""
		}
	} else {
		c.Identity = fmt.Sprintf("Chat app service account %s", f.ClientEmail)
		c.Principal = strings.ToLower(f.ClientEmail)
		advice = func(code string) string {
			if code == "invalid_grant" {
				return "check that the key has not been deleted or disabled"
			}
			return ""
		}
	}
	c.TokenSource = jc.TokenSource(tsCtx)
	if err := fetchFirst(c.TokenSource, fmt.Sprintf("%s (key %q)", c.Identity, f.path), advice); err != nil {
		return nil, err
	}
	return c, nil
}

// newADC finds Application Default Credentials the way Google's libraries
// do: GOOGLE_APPLICATION_CREDENTIALS, then gcloud's file, then the metadata
// server. The first two are looked up here, through cfg.Getenv, so that a
// bad file is reported with its name and where it came from.
func newADC(tsCtx context.Context, cfg Config) (*Credentials, error) {
	params := google.CredentialsParams{Scopes: cfg.Scopes, Subject: cfg.Subject}
	if p := cfg.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		return adcFile(tsCtx, p, " (from GOOGLE_APPLICATION_CREDENTIALS)", params)
	}
	wellKnown := gcloudADCFile(cfg.Getenv)
	if wellKnown != "" {
		if _, err := os.Stat(wellKnown); !errors.Is(err, fs.ErrNotExist) {
			return adcFile(tsCtx, wellKnown, " (gcloud's application default credentials)", params)
		}
	}
	find := cfg.findDefault
	if find == nil {
		find = google.FindDefaultCredentialsWithParams
	}
	gc, err := find(tsCtx, params)
	if err != nil {
		return nil, noADC(wellKnown, err)
	}
	if cfg.Subject != "" {
		return nil, errSubjectMetadata
	}
	c := &Credentials{Scopes: cfg.Scopes, TokenSource: gc.TokenSource, Identity: "the Google Cloud metadata server's service account"}
	if gc.ProjectID != "" {
		c.Identity += " (project " + gc.ProjectID + ")"
	}
	if err := fetchFirst(c.TokenSource, "application default credentials from "+c.Identity, nil); err != nil {
		return nil, err
	}
	return c, nil
}

func adcFile(tsCtx context.Context, path, from string, params google.CredentialsParams) (*Credentials, error) {
	f, c, err := readADCFile(path, from, params)
	if err != nil {
		return nil, err
	}
	gc, err := google.CredentialsFromJSONWithTypeAndParams(tsCtx, f.data, google.CredentialsType(f.Type), params)
	if err != nil {
		return nil, usagef("credentials file %q%s: %w", path, from, err)
	}
	c.TokenSource = gc.TokenSource
	advice := func(code string) string {
		if code == "invalid_grant" && f.kind == kindAuthorizedUser {
			return "run gcloud auth application-default login again"
		}
		if code == "unauthorized_client" && params.Subject != "" {
			return "domain-wide delegation does not cover these scopes for client ID " + f.ClientID
		}
		return ""
	}
	if err := fetchFirst(c.TokenSource, "application default credentials: "+c.Identity, advice); err != nil {
		return nil, err
	}
	return c, nil
}

// readADCFile reads and checks an application default credentials file,
// as adcFile does before it asks for a token (and --plan does too).
func readADCFile(path, from string, params google.CredentialsParams) (*credFile, *Credentials, error) {
	f, err := readCredentials(path, from)
	if err != nil {
		return nil, nil, err
	}
	c := &Credentials{Scopes: params.Scopes}
	switch f.kind {
	case kindServiceAccount:
		if err := f.checkKey(); err != nil {
			return nil, nil, err
		}
		c.Identity = "service account " + f.ClientEmail
		if params.Subject != "" {
			c.Identity += " impersonating " + params.Subject
			c.Email = strings.ToLower(params.Subject)
		}
	case kindAuthorizedUser:
		// Its scopes were fixed by gcloud auth application-default login.
		c.Identity = "gcloud user credentials"
		c.Scopes = nil
	case kindExternal:
		c.Identity = "workload identity federation"
	case kindImpersonated:
		c.Identity = "impersonated service account"
	case kindInstalled, kindWeb:
		return nil, nil, usagef("credentials file %q%s is %s, not application default credentials: use --auth user --credentials %s", path, from, f.kind, path)
	default:
		return nil, nil, usagef("credentials file %q%s is %s (type %q)", path, from, f.kind, f.Type)
	}
	if params.Subject != "" && f.kind != kindServiceAccount {
		return nil, nil, usagef("--subject needs application default credentials that are a service-account key; %q is %s", path, f.kind)
	}
	c.Identity += fmt.Sprintf(" from %q", path)
	return f, c, nil
}

// gcloudADCFile is where gcloud auth application-default login writes its
// credentials, honouring CLOUDSDK_CONFIG as gcloud does.
func gcloudADCFile(getenv func(string) string) string {
	const name = "application_default_credentials.json"
	if d := getenv("CLOUDSDK_CONFIG"); d != "" {
		return filepath.Join(d, name)
	}
	if runtime.GOOS == "windows" {
		if d := getenv("APPDATA"); d != "" {
			return filepath.Join(d, "gcloud", name)
		}
		return ""
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "gcloud", name)
	}
	return ""
}

// fetchFirst fetches a first token from ts so that refused credentials stop
// the run before any Chat API call. A refusal (a 4xx from the token
// endpoint) becomes an ErrUsage error built from the OAuth error code and
// description only, plus advice for that code; other failures (network,
// 5xx) are returned as they are.
func fetchFirst(ts oauth2.TokenSource, what string, advice func(code string) string) error {
	_, err := ts.Token()
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// The JWT flow leaves the OAuth error in the body.
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				code, desc = body.Error, body.Description
			}
		}
		msg := what + ": the token endpoint refused the credentials ("
		if code == "" {
			msg += re.Response.Status
		} else {
			msg += code
		}
		if desc != "" {
			msg += ": " + desc
		}
		msg += ")"
		if advice != nil {
			if a := advice(code); a != "" {
				msg += "; " + a
			}
		}
		return &usageError{msg: msg, err: err}
	}
	return fmt.Errorf("%s: fetching an access token: %w", what, err)
}
