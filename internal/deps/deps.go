package deps

import (
	_ "github.com/cenkalti/backoff/v5"
	_ "github.com/gofrs/flock"
	_ "github.com/google/renameio/v2"
	_ "github.com/google/uuid"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/schollz/progressbar/v3"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/oauth2/google"
	_ "golang.org/x/time/rate"
	_ "google.golang.org/api/chat/v1"
	_ "google.golang.org/api/option"
	_ "gopkg.in/yaml.v3"
)
