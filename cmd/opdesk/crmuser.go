package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
)

// runCRMUser is "opdesk crm user add": a team's admin creates operators and
// supervisors and says which campaigns each works. The password is read from
// OPDESK_NEW_PASSWORD or, when that is unset, from the first line of standard
// input — never from the command line, where ps and the shell's history would
// show it.
func runCRMUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(stderr, crmUsage)
		return 2
	}
	fs, dsn := crmFlags("user add", stderr)
	display := fs.String("display-name", "", "the name scripts and colleagues see (default: the user name)")
	role := fs.String("role", string(crmclient.RoleAgent), "agent or supervisor")
	campaigns := fs.String("campaigns", "", "campaign ids the user works on, comma-separated")
	names, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(names) != 1 {
		fmt.Fprintln(stderr, "opdesk crm user add: give one user name, e.g. opdesk crm user add op1 --campaigns renewal")
		return 2
	}
	name := names[0]
	password := os.Getenv("OPDESK_NEW_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(stderr, "opdesk crm user add: no password: set OPDESK_NEW_PASSWORD or write it on standard input")
			return 2
		}
		password = strings.TrimRight(line, "\r\n")
	}
	var camps []string
	for _, c := range strings.Split(*campaigns, ",") {
		if c = strings.TrimSpace(c); c != "" {
			camps = append(camps, c)
		}
	}
	ctx := context.Background()
	st, ok := openCRMStore(ctx, *dsn, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, crmserver.NewUser{Name: name, DisplayName: *display, Role: crmclient.Role(*role),
		Password: password, Campaigns: camps})
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm user add: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "user %s (%s, %s) created; campaigns: %s\n", u.Name, u.DisplayName, u.Role, strings.Join(u.Campaigns, ", "))
	return 0
}
