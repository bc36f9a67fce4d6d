package apply

import (
	"context"
	"fmt"
	"time"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// postWelcome posts the space's welcome message once: with a client message
// ID derived from the space (plan.WelcomeID), and that ID as
// the requestId, so that a retry, a lost answer or a crash returns the
// message already posted rather than a second one; an ALREADY_EXISTS on the
// message ID means it was posted (DD, messages.create messageId: "unique
// within a space"). The message is recorded by the name its client ID
// gives it, spaces/S/messages/client-… (an alias of the name the server
// assigns, which the API accepts wherever a message is named: DD), so that
// a later plan can tell whether the text changed since.
func (r *runner) postWelcome(ctx context.Context, k string, entry *results.Entry, s plan.Space) error {
	id := plan.WelcomeID(s.RecordKey())
	name := entry.Name + "/messages/" + id
	err := r.do(ctx, r.opts.Messages, "messages.create", entry.Name, func(cctx context.Context) error {
		_, err := r.svc.Spaces.Messages.Create(entry.Name, &chat.Message{Text: s.Welcome}).
			MessageId(id).RequestId(id).Context(cctx).Do()
		return err
	})
	if err != nil {
		e := classify(err)
		switch {
		case isStop(ctx, err):
			return err
		case e.kind != exists:
			r.unauthenticated(e)
			return fmt.Errorf("posting the welcome message: %w", e)
		}
	}
	r.stats.welcomes.Add(1)
	return r.record(results.Event{Space: k, Welcome: name, WelcomeHash: plan.WelcomeHash(s.Welcome)})
}

// sincePatch waits out the per-space write pace after the space's last
// patch, before another write to the space (a message counts: Limits,
// per-space writes).
func sincePatch(ctx context.Context, last time.Time) error {
	wait := time.Until(last.Add(perSpaceWrite))
	if last.IsZero() || wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
