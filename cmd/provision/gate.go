// The gate in front of the Chat client: no write is sent once the state
// is no longer the run's.

package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// writeGate holds back every request that may change something in Chat
// (any method but GET and HEAD) once the state says the run may no
// longer act on it: a gs:// state's lease lost. A record read back as the
// run's (the requestId of a create) says so only at the time of its
// read; the call it is for may wait its turn for seconds, or the process
// may be paused, in between, and the run that took the lease over may
// already be making the same calls. The gate asks again, without a call,
// just before the request is sent, and stops the run.
type writeGate struct {
	mu    sync.Mutex
	check func() error
	stop  context.CancelCauseFunc
	// held counts the requests held back: the applier counts each as a
	// call without an answer, which began must not take for a write the
	// server may have carried out.
	held int
}

// arm makes the gate ask check before every write, and stop the run
// with its error when it fails.
func (g *writeGate) arm(check func() error, stop context.CancelCauseFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.check, g.stop = check, stop
}

// refuse says why a write may not be sent, stopping the run if so.
func (g *writeGate) refuse() error {
	g.mu.Lock()
	check, stop := g.check, g.stop
	g.mu.Unlock()
	if check == nil {
		return nil
	}
	err := check()
	if err != nil {
		g.mu.Lock()
		g.held++
		g.mu.Unlock()
		if stop != nil {
			stop(err)
		}
	}
	return err
}

// heldBack is how many requests the gate held back.
func (g *writeGate) heldBack() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// client is c with the gate in front of its transport.
func (g *writeGate) client(c *http.Client) *http.Client {
	gated := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	gated.Transport = gatedTransport{next: next, g: g}
	return &gated
}

type gatedTransport struct {
	next http.RoundTripper
	g    *writeGate
}

func (t gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		if err := t.g.refuse(); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("not sent: %w", err)
		}
	}
	return t.next.RoundTrip(req)
}
