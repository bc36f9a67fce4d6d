package chatemu

import (
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
)

func TestMessages(t *testing.T) {
	t.Parallel()
	srv, alice, bob := twoCallers(t, WithSpaceWriteRate(0))
	sp, err := alice.Spaces.Create(newSpace("Welcome")).Do()
	if err != nil {
		t.Fatal(err)
	}
	m, err := alice.Spaces.Messages.Create(sp.Name, &chat.Message{Text: "Hello"}).MessageId("client-welcome-1").RequestId("m-1").Do()
	if err != nil {
		t.Fatalf("Messages.Create: %v", err)
	}
	if !strings.HasPrefix(m.Name, sp.Name+"/messages/") || m.Text != "Hello" || m.ClientAssignedMessageId != "client-welcome-1" ||
		m.Sender.Name != "users/"+userID("alice@example.com") || m.Thread == nil || m.Space.Name != sp.Name {
		t.Errorf("Messages.Create = %+v", m)
	}
	// The same requestId replays: an echo and the name, nothing made.
	again, err := alice.Spaces.Messages.Create(sp.Name, &chat.Message{Text: "Hello"}).MessageId("client-welcome-1").RequestId("m-1").Do()
	if err != nil || again.Name != m.Name || again.Text != "Hello" || again.CreateTime != "" || again.Thread == nil {
		t.Errorf("replayed Messages.Create = %+v, %v; want an echo named %s", again, err, m.Name)
	}
	if _, err := alice.Spaces.Members.Create(sp.Name, user("bob@example.com")).Do(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		svc    *chat.Service
		msg    *chat.Message
		id     string
		req    string
		code   int
		status string
	}{
		{"same messageId", alice, &chat.Message{Text: "again"}, "client-welcome-1", "", 409, "ALREADY_EXISTS"},
		{"another caller's requestId", bob, &chat.Message{Text: "hi"}, "", "m-1", 400, "INVALID_ARGUMENT"},
		{"id without client-", alice, &chat.Message{Text: "x"}, "welcome", "", 400, "INVALID_ARGUMENT"},
		{"id in upper case", alice, &chat.Message{Text: "x"}, "client-Welcome", "", 400, "INVALID_ARGUMENT"},
		{"id too long", alice, &chat.Message{Text: "x"}, "client-" + strings.Repeat("a", 57), "", 400, "INVALID_ARGUMENT"},
		{"empty", alice, &chat.Message{}, "", "", 400, "INVALID_ARGUMENT"},
		{"too big", alice, &chat.Message{Text: strings.Repeat("a", 32001)}, "", "", 400, "INVALID_ARGUMENT"},
		{"cards", alice, &chat.Message{Text: "x", CardsV2: []*chat.CardWithId{{CardId: "c"}}}, "", "", 501, "UNIMPLEMENTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := tt.svc.Spaces.Messages.Create(sp.Name, tt.msg)
			if tt.id != "" {
				call = call.MessageId(tt.id)
			}
			if tt.req != "" {
				call = call.RequestId(tt.req)
			}
			_, err := call.Do()
			wantAPIError(t, tt.name, err, tt.code, tt.status)
		})
	}
	if _, err := bob.Spaces.Messages.Create(sp.Name, &chat.Message{Text: "hi"}).MessageId("client-" + strings.Repeat("a", 56)).Do(); err != nil {
		t.Errorf("bob's message with a 63-character id: %v", err)
	}
	other := srv.AddForeignSpace("Not mine", "users/olga@example.com", "")
	_, err = alice.Spaces.Messages.Create(other, &chat.Message{Text: "x"}).Do()
	wantAPIError(t, "a message to a space alice is not in", err, 403, "PERMISSION_DENIED")

	got := srv.Messages(sp.Name)
	if len(got) != 2 || got[0].Name != m.Name || got[0].MessageID != "client-welcome-1" || got[0].RequestID != "m-1" || got[1].Sender != "users/"+userID("bob@example.com") {
		t.Errorf("Messages(%s) = %+v", sp.Name, got)
	}
	if n := srv.Stats().MessagesCreated; n != 2 {
		t.Errorf("Stats().MessagesCreated = %d, want 2", n)
	}
	// Deleting the space deletes its messages.
	if _, err := alice.Spaces.Delete(sp.Name).Do(); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(sp.Name); got != nil {
		t.Errorf("Messages of a deleted space = %+v", got)
	}
}
