package auth

import (
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
