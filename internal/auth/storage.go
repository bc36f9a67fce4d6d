package auth

// StorageScope is Cloud Storage's read and write scope, asked for only
// when the results are kept in a bucket (--results gs://…): reading,
// creating, overwriting and deleting objects (Cloud Storage, "OAuth 2.0
// scopes": devstorage.read_write).
const StorageScope = "https://www.googleapis.com/auth/devstorage.read_write"

// StorageConfig returns the configuration of the credentials that reach
// Cloud Storage, for the run whose Chat credentials cfg configures:
//
//   - service-account and app: the key's own service account, without
//     impersonation. Domain-wide delegation grants Chat scopes to a
//     Workspace user; the bucket grants its role to the service account.
//   - adc and token: the application default credentials, without
//     --subject: on Google Cloud the workload's own service account; in
//     CI, the federated identity whose credentials file
//     GOOGLE_APPLICATION_CREDENTIALS names. A token handed to --auth token
//     is most often issued through domain-wide delegation for Chat, and
//     acts as a Workspace user, not as the identity the bucket trusts.
//   - user: the same person, the storage scope asked for with the Chat
//     ones (see WithStorage), so one consent covers both.
//   - none: no credentials (an emulator, STORAGE_EMULATOR_HOST); the
//     caller does not ask for any.
func StorageConfig(cfg Config) Config {
	s := cfg
	s.Endpoint = ""
	if cfg.Mode != User {
		s.TokenCache = ""
	}
	switch cfg.Mode {
	case ServiceAccount, App:
		s.Mode, s.Subject = App, ""
		s.Scopes = []string{StorageScope}
	case ADC, Token:
		s.Mode, s.Subject = ADC, ""
		s.Scopes = []string{StorageScope}
	case User:
		s.Scopes = WithStorage(User, cfg.Scopes)
	}
	return s
}

// WithStorage adds the storage scope to the Chat scopes of mode m where
// one token carries both (user); other modes get their storage
// credentials apart, and their Chat scopes are returned as they are.
func WithStorage(m Mode, scopes []string) []string {
	if m != User {
		return scopes
	}
	for _, s := range scopes {
		if s == StorageScope {
			return scopes
		}
	}
	return append(append([]string(nil), scopes...), StorageScope)
}
