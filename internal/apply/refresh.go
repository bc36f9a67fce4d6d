package apply

import (
	"context"
	"fmt"
	"sync"

	chat "google.golang.org/api/chat/v1"
)

// Refreshed is what a Refresh found out about the recorded spaces.
type Refreshed struct {
	// Gone are the keys of spaces the API answered NOT_FOUND for: deleted
	// since they were recorded.
	Gone map[string]bool
	// Hidden are the keys of spaces the API refused to show (403): not
	// visible to this caller, which says nothing of whether they exist.
	Hidden map[string]bool
}

// Refresh checks that recorded spaces (key → spaces/ID) still exist,
// Concurrency at a time through the Reads limiter. Only a NOT_FOUND for
// that very space counts as deleted; a 404 saying the Chat app is not
// configured stops the refresh like a 401, and a 403 only means the space
// is not visible to the caller. Any other failure is an error: a space that
// cannot be checked must not be taken for deleted and created again.
func Refresh(ctx context.Context, svc *chat.Service, spaces map[string]string, o Options) (Refreshed, error) {
	r := newRunner(svc, nil, o)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	out := Refreshed{Gone: make(map[string]bool), Hidden: make(map[string]bool)}
	var mu sync.Mutex
	var firstErr error
	todo := make(chan [2]string)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for kv := range todo {
				err := r.do(ctx, r.opts.Reads, "spaces.get", kv[1], func(cctx context.Context) error {
					_, err := svc.Spaces.Get(kv[1]).Context(cctx).Do()
					return err
				})
				var e *apiError
				if err != nil {
					e = classify(err)
					r.unauthenticated(e)
				}
				mu.Lock()
				switch {
				case err == nil:
				case e.kind == notFound:
					out.Gone[kv[0]] = true
				case e.kind == denied && e.code == 403:
					out.Hidden[kv[0]] = true
				case firstErr == nil:
					firstErr = fmt.Errorf("checking %q (%s): %w", kv[0], kv[1], err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for k, name := range spaces {
		select {
		case todo <- [2]string{k, name}:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return out, cause
	}
	return out, firstErr
}
