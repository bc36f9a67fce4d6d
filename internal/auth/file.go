package auth

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// kind is what a credentials file is, judged by its JSON shape.
type kind string

const (
	kindInstalled      kind = "an OAuth client secrets file (Desktop app)"
	kindWeb            kind = "an OAuth client secrets file (Web application)"
	kindServiceAccount kind = "a service-account key"
	kindAuthorizedUser kind = "gcloud user credentials (authorized_user)"
	kindExternal       kind = "a workload identity federation configuration (external_account)"
	kindImpersonated   kind = "an impersonated service account configuration"
	kindUnknown        kind = "not a Google credentials file"
)

// credFile is the part of a credentials file that identifies it. Only
// public fields are decoded; secrets stay in data.
type credFile struct {
	path string
	data []byte
	kind kind

	Type        string          `json:"type"`
	ClientEmail string          `json:"client_email"`
	ClientID    string          `json:"client_id"`
	PrivateKey  string          `json:"private_key"`
	Installed   json.RawMessage `json:"installed"`
	Web         json.RawMessage `json:"web"`
}

// readCredentials reads and classifies the credentials file at path. Its
// errors are ErrUsage errors that name the file; what names a source
// other than a flag (an environment variable) goes in from.
func readCredentials(path, from string) (*credFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		what := "cannot be read"
		var perr *fs.PathError
		if errors.As(err, &perr) {
			what = "cannot be read (" + perr.Err.Error() + ")"
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			what = "does not exist"
		case errors.Is(err, fs.ErrPermission):
			what = "is not readable (permission denied)"
		}
		return nil, &usageError{msg: fmt.Sprintf("credentials file %q%s %s", path, from, what), err: err}
	}
	f := &credFile{path: path, data: data}
	// The decoder's error names at most a character of the input, never a
	// secret.
	if err := json.Unmarshal(data, f); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("credentials file %q%s is not JSON (%v): want a JSON file downloaded from the Google Cloud console", path, from, err), err: err}
	}
	switch {
	case len(f.Installed) > 0:
		f.kind = kindInstalled
	case len(f.Web) > 0:
		f.kind = kindWeb
	case f.Type == "service_account":
		f.kind = kindServiceAccount
	case f.Type == "authorized_user":
		f.kind = kindAuthorizedUser
	case f.Type == "external_account":
		f.kind = kindExternal
	case f.Type == "impersonated_service_account":
		f.kind = kindImpersonated
	default:
		f.kind = kindUnknown
	}
	return f, nil
}

// wrongKind is the error for a file of the wrong kind for mode m.
func (f *credFile) wrongKind(m Mode, need string) error {
	hint := ""
	switch {
	case m != User && (f.kind == kindInstalled || f.kind == kindWeb):
		hint = " (client secrets are for --auth user)"
	case m == User && f.kind == kindServiceAccount:
		hint = " (a key is for --auth service-account or app)"
	}
	return usagef("credentials file %q is %s; --auth %s needs %s%s", f.path, f.kind, m, need, hint)
}

// checkKey checks a service-account key's fields before it is used, so that
// a damaged key is reported with its file instead of at the first token
// fetch.
func (f *credFile) checkKey() error {
	switch {
	case f.ClientEmail == "":
		return usagef("service-account key %q has no client_email", f.path)
	case f.PrivateKey == "":
		return usagef("service-account key %q has no private_key", f.path)
	}
	block, _ := pem.Decode([]byte(f.PrivateKey))
	if block == nil {
		return usagef("service-account key %q: private_key is not PEM", f.path)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 != nil {
			return usagef("service-account key %q: private_key is not a PKCS#8 or PKCS#1 private key", f.path)
		}
	}
	return nil
}
