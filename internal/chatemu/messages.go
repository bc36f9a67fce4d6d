package chatemu

import (
	"net/http"
	"regexp"
	"time"
)

// maxMessage bounds a message's text (DD: "The maximum message size,
// including the message contents, is 32,000 bytes").
const maxMessage = 32000

// messageID is the custom ID a client may give (DD: "Begins with client-
// … Contains up to 63 characters and only lowercase letters, numbers, and
// hyphens. Is unique within a space").
var messageID = regexp.MustCompile(`^client-[a-z0-9-]*$`)

type messageIn struct {
	Text         string `json:"text"`
	FallbackText string `json:"fallbackText"`
}

type messageOut struct {
	Name                    string   `json:"name"`
	Sender                  userOut  `json:"sender"`
	CreateTime              string   `json:"createTime"`
	Text                    string   `json:"text,omitempty"`
	Thread                  threadOn `json:"thread"`
	Space                   spaceRef `json:"space"`
	ClientAssignedMessageID string   `json:"clientAssignedMessageId,omitempty"`
}

type threadOn struct {
	Name string `json:"name"`
}

type spaceRef struct {
	Name string `json:"name"`
}

func (m *message) out(sp *space) messageOut {
	return messageOut{
		Name:                    "spaces/" + sp.id + "/messages/" + m.id,
		Sender:                  userOut{Name: "users/" + m.sender, Type: "HUMAN"},
		CreateTime:              timestamp(m.created),
		Text:                    m.text,
		Thread:                  threadOn{Name: "spaces/" + sp.id + "/threads/" + m.id[:11]},
		Space:                   spaceRef{Name: "spaces/" + sp.id},
		ClientAssignedMessageID: m.clientID,
	}
}

// createMessage posts a text message (messages.create) as the caller, who
// must be a member of the space. A requestId makes it idempotent per caller
// as for spaces (DD: a replay "echoes the message in your request with the
// system-assigned resource names populated"; another caller's requestId is
// an error); a messageId already used in the space answers 409
// ALREADY_EXISTS (DD: "Is unique within a space"; the status is
// UNCERTAIN). Cards, threads and attachments are not modeled (501).
func (s *Server) createMessage(c *call) (int, any, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	var in messageIn
	tree, e := decodeBody(c.body, "Message", "message", &in)
	if e != nil {
		return 0, nil, e
	}
	q := c.r.URL.Query()
	if q.Get("threadKey") != "" || q.Get("messageReplyOption") != "" {
		return 0, nil, newError(statusUnimplemented, "Threads are not modeled by the emulator.")
	}
	clientID := q.Get("messageId")
	if clientID != "" && (len(clientID) > 63 || !messageID.MatchString(clientID)) {
		return 0, nil, newError(statusInvalidArgument, "Invalid message ID %q: it must begin with client- and hold at most 63 lower-case letters, digits and hyphens.", clientID)
	}
	requestID := q.Get("requestId")
	if requestID != "" {
		for _, m := range sp.messages {
			if m.requestID != requestID {
				continue
			}
			if m.sender != c.who.id {
				return 0, nil, newError(statusInvalidArgument, "Request ID %q was already used by another caller.", requestID)
			}
			out := echo("Message", tree, "spaces/"+sp.id+"/messages/"+m.id)
			out["thread"] = threadOn{Name: "spaces/" + sp.id + "/threads/" + m.id[:11]}
			return http.StatusOK, out, nil
		}
	}
	switch {
	case in.Text == "":
		return 0, nil, newError(statusInvalidArgument, "Message cannot be empty: text is required.")
	case len(in.Text) > maxMessage:
		return 0, nil, newError(statusInvalidArgument, "Message is larger than %d bytes.", maxMessage)
	}
	if clientID != "" {
		for _, m := range sp.messages {
			if m.clientID == clientID {
				return 0, nil, newError(statusAlreadyExists, "Message with ID %q already exists in the space.", clientID)
			}
		}
	}
	m := &message{id: s.newMessageID(), clientID: clientID, requestID: requestID, sender: c.who.id, text: in.Text, created: c.now}
	sp.messages = append(sp.messages, m)
	s.ctr.messagesCreated++
	c.created = true // its answer may be lost, as a create's
	return http.StatusOK, m.out(sp), nil
}

// newMessageID is shaped like the real ones: 11 characters, a dot, the same
// 11 again for a message that starts its thread.
func (s *Server) newMessageID() string {
	b := make([]byte, 11)
	for i := range b {
		b[i] = spaceIDAlphabet[s.rng.IntN(len(spaceIDAlphabet))]
	}
	return string(b) + "." + string(b)
}

// Message is a snapshot of one message, for tests.
type Message struct {
	Name       string // spaces/{space}/messages/{id}
	Sender     string // users/{numeric id}
	Text       string
	MessageID  string // the client-assigned ID (messageId), if any
	RequestID  string
	CreateTime time.Time
}

// Messages returns a space's messages in the order they were made; nil if
// the space does not exist.
func (s *Server) Messages(name string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return nil
	}
	out := make([]Message, 0, len(sp.messages))
	for _, m := range sp.messages {
		out = append(out, Message{
			Name:       "spaces/" + sp.id + "/messages/" + m.id,
			Sender:     "users/" + m.sender,
			Text:       m.text,
			MessageID:  m.clientID,
			RequestID:  m.requestID,
			CreateTime: m.created,
		})
	}
	return out
}
