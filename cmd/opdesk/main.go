// Command opdesk is a keyboard-only terminal softphone and call-center
// agent desktop. This file wires the parts together and does nothing else.
//
//	opdesk [--config PATH] [--section.key=value …]              the agent desktop
//	opdesk demo                                                 the desktop with an embedded CRM and customer line
//	opdesk --headless [--config PATH] [--section.key=value …]   the phone without a screen
//	opdesk ctl COMMAND [ARGS]                                   drive a running opdesk
//	opdesk audio list                                           the sound cards
//	opdesk crm serve|seed|import …                              the reference CRM server
//	opdesk version
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfgArgs, rest := splitArgs(args)
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case sub == "ctl":
		return runCtl(cfgArgs, rest[1:], stdout, stderr)
	case sub == "audio":
		return runAudio(cfgArgs, rest[1:], stdout, stderr)
	case sub == "crm":
		return runCRM(rest[1:], stdout, stderr)
	case sub == "doctor":
		return runDoctor(cfgArgs, rest[1:], stdout, stderr)
	case sub == "open":
		return runOpen(cfgArgs, rest[1:], stdout, stderr)
	case sub == "version" || sub == "--version":
		fmt.Fprintln(stdout, "opdesk", version)
		return 0
	case sub == "help" || sub == "--help" || sub == "-h":
		fmt.Fprint(stdout, usage)
		return 0
	case sub == "--headless" || sub == "headless":
		return runHeadless(cfgArgs, rest[1:], stderr)
	case sub == "demo":
		return runDemo(cfgArgs, rest[1:], stderr)
	case sub == "":
		return runDesktop(cfgArgs, rest, stderr)
	}
	fmt.Fprintf(stderr, "opdesk: unknown command %q (try opdesk help)\n", strings.Join(rest, " "))
	return 2
}

const usage = `opdesk — terminal softphone and call-center agent desktop

  opdesk [--config PATH] [--section.key=value …]
        the agent desktop: phone, customer card, script, FAQ, wrap-up
  opdesk demo [--ui.lang=ja|en]
        the desktop with an embedded CRM and a customer line that rings
        every 30 s: nothing to install or configure
  opdesk --headless [--config PATH] [--section.key=value …]
        run the phone without a screen; drive it with opdesk ctl
  opdesk ctl status | dial TARGET | answer [ID] | hangup [ID] | hold [ID]
        | resume [ID] | mute | unmute | dtmf DIGITS [ID] | record on|off [ID]
        | device INPUT [OUTPUT]
        | transfer TARGET [ID] | transfer --attended ID1 ID2 | events
        talk to a running opdesk over its control socket (JSON out)
  opdesk audio list
        the sound cards opdesk can use, for audio.input / audio.output
  opdesk crm serve | seed | import …
        the reference CRM server (opdesk crm help)
  opdesk doctor
        check the config, directories, registrar, NAT, sound card and CRM
  opdesk open tel:NUMBER | sip:USER@HOST | --install
        click-to-call: dial a link in the running opdesk; --install registers it
  opdesk version

Every configuration key can be given as --section.key=value or in the
environment as OPDESK_SECTION_KEY (OPDESK_SIP_PASSWORD for the password).
`
