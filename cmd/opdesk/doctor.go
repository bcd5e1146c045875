package main

// "opdesk doctor" answers the first question of every support call — "why
// does my phone not work?" — before anyone has to read a log. It runs the
// same steps opdesk runs at start (load the config, open the state
// directories, register, open the sound card, log in to the CRM), one at a
// time, and prints one line per step with what it found, and for a step
// that failed one sentence saying what to change.
//
// It must never make things worse: it registers from an ephemeral port so
// it cannot steal the SIP port of an opdesk that is running, asks a running
// opdesk for its own registration instead of registering a second time, and
// never prints a password or a token (they stay config.Secret until the
// moment they are sent).

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/opdesk/opdesk/cmd/opdesk/config"
)

const doctorUsage = `usage: opdesk doctor [--config PATH] [--section.key=value …]
  checks the configuration, the state directories, the registrar, NAT,
  the sound card and the CRM, and says how to fix what is wrong
`

// Marks at the start of each line of the report.
const (
	markOK   = "✔"
	markWarn = "!" // worth fixing, but opdesk works
	markFail = "✘"
)

// finding is one line of the report, with its indented details and fix.
type finding struct {
	mark   string
	name   string
	what   string
	detail []string // printed indented under the line (e.g. config errors)
	fix    string   // one sentence an operator or admin can act on
}

// doctor runs the checks and writes the report.
type doctor struct {
	out io.Writer
	env []string // the environment, as os.Environ
	// regWait bounds the wait for the registrar's answer.
	regWait time.Duration
	// httpTimeout bounds each request to the CRM.
	httpTimeout time.Duration
	failed      bool
}

// runDoctor is "opdesk doctor". Exit codes: 0 every check passed (warnings
// allowed), 1 at least one failed, 2 usage.
func runDoctor(cfgArgs, rest []string, stdout, stderr io.Writer) int {
	if len(rest) > 0 {
		fmt.Fprint(stderr, doctorUsage)
		return 2
	}
	d := &doctor{out: stdout, env: os.Environ(), regWait: 5 * time.Second, httpTimeout: 5 * time.Second}
	return d.run(cfgArgs)
}

// run loads the configuration and, when it loads, runs every other check.
func (d *doctor) run(cfgArgs []string) int {
	cfg, ok := d.checkConfig(cfgArgs)
	if ok {
		d.checkDirs(cfg)
		running := d.checkRunning(cfg)
		d.checkRegistrar(cfg, running)
		d.checkNAT(cfg)
		d.checkAudio(cfg, running)
		d.checkCRM(cfg)
	}
	if d.failed {
		fmt.Fprintln(d.out, "\nSome checks failed: fix the ✘ lines above, then run opdesk doctor again.")
		return 1
	}
	return 0
}

// report prints one finding.
func (d *doctor) report(f finding) {
	if f.mark == markFail {
		d.failed = true
	}
	fmt.Fprintf(d.out, "%s %s: %s\n", f.mark, f.name, oneLine(f.what))
	for _, l := range f.detail {
		fmt.Fprintf(d.out, "    %s\n", oneLine(l))
	}
	if f.fix != "" {
		fmt.Fprintf(d.out, "  → fix: %s\n", oneLine(f.fix))
	}
}

// oneLine keeps text from elsewhere (a PBX's reason phrase, a CRM's error
// message, a file name) on one line and free of terminal escapes.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// checkConfig loads the configuration the way opdesk does.
func (d *doctor) checkConfig(cfgArgs []string) (*config.Config, bool) {
	cfg, err := config.Load(config.LoadOptions{Args: cfgArgs, Environ: d.env})
	if err != nil {
		var lines []string
		for _, l := range strings.Split(err.Error(), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		what := "the configuration does not load"
		if len(lines) == 1 {
			what += " (1 problem)"
		} else {
			what += fmt.Sprintf(" (%d problems)", len(lines))
		}
		fix := "correct each line named above (file:line, variable or flag); opdesk help lists the settings"
		var pe *os.PathError
		if errors.As(err, &pe) {
			fix = "create the file or correct the path named above; " + fix
		}
		d.report(finding{mark: markFail, name: "config", what: what, detail: lines,
			fix: fix + ". The other checks run once the configuration loads"})
		return nil, false
	}
	what := "built-in defaults (no config file)"
	if cfg.Path != "" {
		what = cfg.Path
	}
	d.report(finding{mark: markOK, name: "config", what: what})
	for _, w := range cfg.Warnings {
		d.report(finding{mark: markWarn, name: "config", what: w})
	}
	return cfg, true
}

// checkDirs makes sure opdesk can write where it keeps its log, its
// recordings and its control socket: create and remove a file in each.
func (d *doctor) checkDirs(cfg *config.Config) {
	dirs := []struct{ name, key, dir string }{
		{"log directory", "log.file", filepath.Dir(cfg.Log.File)},
		{"recordings directory", "audio.recordings", cfg.Audio.Recordings},
		{"socket directory", "ctl.socket", filepath.Dir(cfg.Ctl.Socket)},
	}
	for _, x := range dirs {
		if x.dir == "" || x.dir == "." && x.key != "audio.recordings" {
			d.report(finding{mark: markWarn, name: x.name, what: x.key + " is not set",
				fix: "set " + x.key + ", or HOME / XDG_STATE_HOME so opdesk can choose one"})
			continue
		}
		if err := writable(x.dir); err != nil {
			d.report(finding{mark: markFail, name: x.name, what: fmt.Sprintf("%s is not writable: %v", x.dir, plainPathErr(err)),
				fix: fmt.Sprintf("give your user write access (ls -ld %s; chown or chmod it), or point %s somewhere you can write", x.dir, x.key)})
			continue
		}
		d.report(finding{mark: markOK, name: x.name, what: x.dir + " is writable"})
	}
}

// writable creates dir (0700, as opdesk would) and a temporary file in it,
// then removes the file.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".opdesk-doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// plainPathErr drops the path from a *PathError, which the line already shows.
func plainPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkRunning reports whether an opdesk already listens on ctl.socket.
// Later checks then ask it instead of competing with it.
func (d *doctor) checkRunning(cfg *config.Config) bool {
	c, err := net.DialTimeout("unix", cfg.Ctl.Socket, 300*time.Millisecond)
	if err != nil {
		what := "no opdesk is running (" + cfg.Ctl.Socket + " is free)"
		d.report(finding{mark: markOK, name: "control socket", what: what})
		return false
	}
	c.Close()
	d.report(finding{mark: markOK, name: "control socket",
		what: "an opdesk is running on " + cfg.Ctl.Socket + "; the registrar check asks it instead of registering a second time"})
	return true
}
