package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
)

// runCtl sends one command to a running opdesk and prints its JSON reply.
// Exit codes: 0 done, 1 refused or failed (reason on stderr), 2 usage.
func runCtl(cfgArgs, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "opdesk ctl: a command is needed\n"+usage)
		return 2
	}
	cfg, ok := loadConfig(cfgArgs, stderr)
	if !ok {
		return 2
	}
	path := cfg.Ctl.Socket
	if args[0] == "events" {
		stop := make(chan struct{})
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
		go func() { <-sigs; close(stop) }()
		if err := ctl.Events(path, stdout, stop); err != nil {
			fmt.Fprintf(stderr, "opdesk ctl: %v\n", err)
			return 1
		}
		return 0
	}
	line, rep, err := ctl.Call(path, ctl.Request{Cmd: args[0], Args: args[1:]})
	if err != nil {
		fmt.Fprintf(stderr, "opdesk ctl: %v\n", err)
		return 1
	}
	if !rep.OK {
		fmt.Fprintf(stderr, "opdesk ctl: %s\n", rep.Error)
		if strings.HasPrefix(rep.Error, "usage") {
			return 2
		}
		return 1
	}
	_, _ = stdout.Write(line)
	return 0
}
