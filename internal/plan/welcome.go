// The welcome message: posted once per space, under one ID whatever the text.

package plan

import (
	"crypto/sha256"
	"encoding/hex"
)

// WelcomeID is the client-assigned ID of a space's welcome message:
// "client-welcome-" and a hash of the space's key (its identity: the same
// across a rename) (DD, messages.create
// messageId: begins with client-, up to 63 lower-case letters, digits and
// hyphens, unique in the space). One ID per space, whatever the text: a
// retry, a lost answer or a crash, even one followed by an edit of the
// text, meets the message already posted (ALREADY_EXISTS, or the replay of
// the same requestId) and never posts a second.
func WelcomeID(key string) string {
	sum := sha256.Sum256([]byte(KeyOf(key).String()))
	return "client-welcome-" + hex.EncodeToString(sum[:12])
}

// WelcomeHash identifies a welcome's text in the results file, so that a
// plan can tell a text changed since it was posted.
func WelcomeHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// welcome plans the welcome message of a recorded space: posted once, when
// the config has one and the record none; a text changed since it was
// posted is not posted again, and the plan says so.
func welcome(it *Item, s Space, rec Recorded) {
	if s.Welcome == "" {
		return
	}
	if rec.Welcome == "" {
		it.Welcome = true
		return
	}
	if rec.WelcomeHash != "" && rec.WelcomeHash != WelcomeHash(s.Welcome) {
		it.Warnings = append(it.Warnings, WarnWelcome)
	}
}

// WarnWelcome is the warning of a welcome text changed after it was posted.
const WarnWelcome = "the welcome message was posted already; a changed text is not posted again"
