package apply

import (
	"context"
	"fmt"
	"sync"

	chat "google.golang.org/api/chat/v1"
)

// Refresh checks that recorded spaces still exist, Concurrency at a time
// through the Reads limiter. It returns the keys of spaces the API no longer
// has (404). Any other failure is an error: a space that cannot be checked
// must not be taken for deleted and created again.
func Refresh(ctx context.Context, svc *chat.Service, spaces map[string]string, o Options) (gone map[string]bool, err error) {
	r := newRunner(svc, nil, o)
	gone = make(map[string]bool)
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
				mu.Lock()
				switch {
				case err == nil:
				case classify(err).kind == notFound:
					gone[kv[0]] = true
				case firstErr == nil:
					firstErr = fmt.Errorf("checking %q (%s): %w", kv[0], kv[1], err)
				}
				mu.Unlock()
			}
		}()
	}
	for k, name := range spaces {
		select {
		case todo <- [2]string{k, name}:
		case <-ctx.Done():
		}
	}
	close(todo)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return gone, firstErr
}
