package chatemu_test

import (
	"testing"

	"provision/internal/chatemu"
)

// TestOutOfBandEdits: EditSpace and RemoveMember change a space as a person
// in the Chat UI would, visible to the API's readers, counting no call.
func TestOutOfBandEdits(t *testing.T) {
	t.Parallel()
	emu := chatemu.New()
	name, err := emu.AddSpace("Team")
	if err != nil {
		t.Fatal(err)
	}
	if !emu.EditSpace(name, "new words", "new rules") || emu.EditSpace("spaces/none", "", "") {
		t.Fatal("EditSpace reported the wrong existence")
	}
	sp, _ := emu.Space(name)
	if sp.SpaceDetails == nil || sp.SpaceDetails.Description != "new words" || sp.SpaceDetails.Guidelines != "new rules" {
		t.Fatalf("space after EditSpace = %+v", sp.SpaceDetails)
	}
	if emu.RemoveMember(name, "nobody@example.com") {
		t.Fatal("RemoveMember removed someone who was not there")
	}
	if !emu.RemoveMember(name, "Caller@example.com") || len(emu.Members(name)) != 0 {
		t.Fatalf("RemoveMember left %+v", emu.Members(name))
	}
	if st := emu.Stats(); len(st.Calls) != 0 {
		t.Fatalf("helpers counted calls: %v", st.Calls)
	}
}
