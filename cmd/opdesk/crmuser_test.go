package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
)

func TestCRMUserAdd(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "crm.db")
	run := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := runCRMUser(append(args, "--db", db), strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	t.Setenv("OPDESK_NEW_PASSWORD", "")
	if code, out := run("op1-secret-pw\n", "add", "op1", "--display-name", "高橋 美咲", "--campaigns", "renewal, inbound"); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	st, err := crmserver.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Login(context.Background(), "op1", "op1-secret-pw")
	if err != nil {
		t.Fatalf("the new user cannot log in: %v", err)
	}
	if u := res.User; u.DisplayName != "高橋 美咲" || u.Role != crmclient.RoleAgent || !slices.Equal(u.Campaigns, []string{"renewal", "inbound"}) {
		t.Errorf("user %+v", u)
	}

	t.Setenv("OPDESK_NEW_PASSWORD", "sv-secret-pw")
	if code, out := run("", "add", "--role", "supervisor", "sv9"); code != 0 {
		t.Fatalf("flags before the name: exit %d: %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"add"}, 2, "give one user name"},
		{[]string{"add", "op2", "op3"}, 2, "give one user name"},
		{[]string{"add", "op2", "--role", "boss"}, 1, "role must be agent or supervisor"},
		{[]string{"add", "op1"}, 1, "op1"}, // exists
		{[]string{"remove", "op1"}, 2, "opdesk crm"},
	} {
		code, out := run("", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, out, tc.code, tc.says)
		}
	}
	t.Setenv("OPDESK_NEW_PASSWORD", "")
	if code, out := run("", "add", "op4"); code != 2 || !strings.Contains(out, "no password") {
		t.Errorf("no password: exit %d %q", code, out)
	}
	if code, out := run("short\n", "add", "op5"); code != 1 || !strings.Contains(out, "password must be 8–72 bytes") {
		t.Errorf("short password: exit %d %q", code, out)
	}
}
