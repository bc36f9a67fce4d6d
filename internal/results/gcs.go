package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
)

// GCS returns the Objects of a Cloud Storage bucket, through the official
// client. The client retries only idempotent calls by default, and a
// write with a generation precondition is one (the client's Writer counts
// GenerationMatch and DoesNotExist as idempotent; Cloud Storage, "Retry
// strategy": conditionally idempotent operations), for as long as the
// context lasts, so every call here is given a deadline; the store still reads
// back an object a retried write found changed (a 412 after a first
// attempt whose answer was lost), since it may have been its own.
func GCS(client *storage.Client, bucket string) Objects {
	return &gcsObjects{b: client.Bucket(bucket), name: bucket}
}

type gcsObjects struct {
	b    *storage.BucketHandle
	name string
}

func (g *gcsObjects) String() string { return "gs://" + g.name }

func (g *gcsObjects) Read(ctx context.Context, name string) ([]byte, int64, error) {
	r, err := g.b.Object(name).NewReader(ctx)
	if err != nil {
		return nil, 0, g.classify(name, err)
	}
	defer r.Close()
	data, err := readSized(r, r.Attrs.Size)
	if err != nil {
		return nil, 0, fmt.Errorf("reading gs://%s/%s: %w", g.name, name, err)
	}
	return data, r.Attrs.Generation, nil
}

func (g *gcsObjects) Write(ctx context.Context, name string, data []byte, ifGen int64) (int64, error) {
	// ifGenerationMatch=0 means "only if no live object has this name"
	// (Cloud Storage: "Request preconditions"); the Go client spells it
	// DoesNotExist.
	cond := storage.Conditions{GenerationMatch: ifGen}
	if ifGen == 0 {
		cond = storage.Conditions{DoesNotExist: true}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := g.b.Object(name).If(cond).NewWriter(ctx)
	w.ContentType = "application/json"
	// One request, not a resumable upload, and one the client may send
	// again: a chunk at least as large as the object makes the upload a
	// single request from a buffer, which the client retries (with
	// ChunkSize 0 it streams the data and never retries, so one 503 from
	// a loaded bucket would stop the run).
	w.ChunkSize = len(data) + 1
	if _, err := w.Write(data); err != nil {
		w.Close()
		return 0, g.classify(name, err)
	}
	if err := w.Close(); err != nil {
		return 0, g.classify(name, err)
	}
	return w.Attrs().Generation, nil
}

func (g *gcsObjects) List(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	it := g.b.Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names, nil
		}
		if err != nil {
			return nil, g.classify(prefix, err)
		}
		names = append(names, a.Name)
	}
}

func (g *gcsObjects) Delete(ctx context.Context, name string) error {
	err := g.b.Object(name).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil
	}
	if err != nil {
		return g.classify(name, err)
	}
	return nil
}

// classify turns the client's errors into the store's: 412 is
// ErrPrecondition ("412 Precondition Failed": the generation did not
// match), 404 on an object is ErrNotExist, 404 of the bucket ErrNoBucket,
// 403 (and 401) ErrForbidden.
func (g *gcsObjects) classify(name string, err error) error {
	where := fmt.Sprintf("gs://%s/%s", g.name, name)
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return fmt.Errorf("%w: gs://%s", ErrNoBucket, g.name)
	case errors.Is(err, storage.ErrObjectNotExist):
		return fmt.Errorf("%s: %w", where, ErrNotExist)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case http.StatusPreconditionFailed:
			return fmt.Errorf("%s: %w", where, ErrPrecondition)
		case http.StatusNotFound:
			// A write or a list answered 404: the object need not exist
			// for them, so the bucket does not.
			return fmt.Errorf("%w: gs://%s (%s)", ErrNoBucket, g.name, message(ge))
		case http.StatusForbidden, http.StatusUnauthorized:
			return fmt.Errorf("%w: %s: %s", ErrForbidden, where, message(ge))
		}
	}
	return fmt.Errorf("%s: %w", where, err)
}

// message is the server's message of an error: Message, or where the
// client left it empty (an error answer to a download), the message in
// the JSON body. Cloud Storage's messages name the principal and the
// permission it lacks, never a credential.
func message(ge *googleapi.Error) string {
	if ge.Message != "" {
		return ge.Message
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(ge.Body), &body) == nil && body.Error.Message != "" {
		return body.Error.Message
	}
	return http.StatusText(ge.Code)
}
