package auth

import (
	"context"
	"slices"
	"testing"
)

func TestStorageConfig(t *testing.T) {
	t.Parallel()
	chat := []string{scopeSpacesCreate}
	for _, tc := range []struct {
		mode       Mode
		wantMode   Mode
		wantScopes []string
	}{
		{ServiceAccount, App, []string{StorageScope}},
		{App, App, []string{StorageScope}},
		{ADC, ADC, []string{StorageScope}},
		{Token, ADC, []string{StorageScope}},
		{User, User, []string{scopeSpacesCreate, StorageScope}},
	} {
		cfg := Config{Mode: tc.mode, Subject: "admin@example.com", Scopes: chat, Endpoint: "https://chat.googleapis.com/", TokenCache: "tok.json"}
		s := StorageConfig(cfg)
		if s.Mode != tc.wantMode || !slices.Equal(s.Scopes, tc.wantScopes) || s.Endpoint != "" {
			t.Errorf("StorageConfig(%s) = mode %s, scopes %v, endpoint %q; want %s, %v, none", tc.mode, s.Mode, s.Scopes, s.Endpoint, tc.wantMode, tc.wantScopes)
		}
		if tc.mode != User && (s.Subject != "" || s.TokenCache != "") {
			t.Errorf("StorageConfig(%s) keeps subject %q, token cache %q: the bucket's identity is the key's or the workload's own", tc.mode, s.Subject, s.TokenCache)
		}
	}
	if got := WithStorage(ServiceAccount, chat); !slices.Equal(got, chat) {
		t.Errorf("WithStorage(service-account) = %v: delegated Chat scopes must not grow", got)
	}
	if got := WithStorage(User, WithStorage(User, chat)); len(got) != 2 {
		t.Errorf("WithStorage twice = %v", got)
	}
}

// Under --auth service-account, the bucket is reached as the key's own
// service account: the JWT the token endpoint receives has no subject
// and asks for the storage scope alone.
func TestStorageServiceAccountActsAsItself(t *testing.T) {
	t.Parallel()
	s := newOAuthServer(t)
	key := s.keyFile(t, t.TempDir())
	cfg := Config{Mode: ServiceAccount, Credentials: key, Subject: "admin@example.com",
		Scopes: ScopesFor(ServiceAccount, Needs{}), Getenv: func(string) string { return "" }}
	c, err := New(context.Background(), StorageConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	jwt := s.lastJWT(t)
	if jwt.Sub != "" || jwt.Scope != StorageScope {
		t.Fatalf("JWT subject %q, scope %q; want none and %q", jwt.Sub, jwt.Scope, StorageScope)
	}
	if c.Email != "" {
		t.Fatalf("storage credentials act as %q, want the service account itself", c.Email)
	}
}
