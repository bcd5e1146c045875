package main

// "opdesk open URL" is click-to-call: the desktop runs it when a tel: or
// sip: link is clicked in a browser or a CRM page, and it asks the running
// opdesk to dial over the control socket.
//
// The link comes from a web page, so it is hostile until proven otherwise.
// Only the number, or the user and host of a SIP URI, survive: SIP URI
// parameters and headers (?Subject=…&Route=…) are dropped, so a page cannot
// steer the call through another proxy or put its own headers on the
// INVITE, and any control character, raw or %-escaped, refuses the link
// whole.

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
)

//go:embed opdesk-open.desktop
var desktopEntry string

// desktopFile is the desktop entry's name, which xdg-mime refers to.
const desktopFile = "opdesk-open.desktop"

// openSchemes are the URL schemes the desktop entry handles.
var openSchemes = []string{"tel", "sip", "sips"}

const openUsage = `usage: opdesk open tel:NUMBER | sip:USER@HOST
       opdesk open --install   make opdesk the handler of tel: and sip: links
`

// errBadLink wraps every reason a link is refused.
var errBadLink = errors.New("cannot call this link")

// callTarget is what a link asks to dial.
type callTarget struct {
	Dial string // what the running opdesk is asked to dial
	Ext  string // an extension to key in once answered (tel: ;ext=), or ""
}

// Bounds on what a link may hold.
const (
	maxLinkLen   = 2048
	maxNumberLen = 32 // a local number with prefixes; E.164 itself has at most 15 digits
	maxUserLen   = 64
)

// parseCallURL reads a tel: (RFC 3966) or sip:/sips: (RFC 3261) link.
func parseCallURL(raw string) (callTarget, error) {
	raw = strings.Trim(raw, " ") // pasted links; a trailing CR or NEL is refused below
	if len(raw) > maxLinkLen {
		return callTarget{}, fmt.Errorf("%w: the link is longer than %d characters", errBadLink, maxLinkLen)
	}
	if err := noControl(raw); err != nil {
		return callTarget{}, err
	}
	// An escaped control character (%0d%0a, %00) is refused too, wherever it is.
	dec, err := url.PathUnescape(raw)
	if err != nil {
		return callTarget{}, fmt.Errorf("%w: broken %%-escape in the link", errBadLink)
	}
	if err := noControl(dec); err != nil {
		return callTarget{}, err
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return callTarget{}, fmt.Errorf("%w: not a tel: or sip: link", errBadLink)
	}
	switch strings.ToLower(scheme) {
	case "tel":
		return parseTel(rest)
	case "sip", "sips":
		return parseSIPLink(strings.ToLower(scheme), rest)
	}
	return callTarget{}, fmt.Errorf("%w: opdesk dials tel:, sip: and sips: links, not %s:", errBadLink, scheme)
}

// noControl refuses control and format characters (CR, LF, NUL, ESC, bidi
// overrides): nothing a phone number or SIP address needs.
func noControl(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%w: it holds a control character", errBadLink)
		}
	}
	return nil
}

// stripVisual removes RFC 3966 visual separators (and spaces, which
// people paste).
func stripVisual(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("-.() ", r) {
			return -1
		}
		return r
	}, s)
}

// parseTel reads the part after "tel:". A global number ("+81 3 …") is
// dialled as such; a local number is dialled as written whatever its
// phone-context, since the PBX dials local numbers in its own context;
// ;ext= is returned for the operator to key in; other parameters are
// ignored.
func parseTel(s string) (callTarget, error) {
	s = strings.TrimPrefix(s, "//") // tel://… is common, if not standard
	numPart, params, _ := strings.Cut(s, ";")
	num, err := url.PathUnescape(numPart)
	if err != nil {
		return callTarget{}, fmt.Errorf("%w: broken %%-escape in the number", errBadLink)
	}
	num = stripVisual(num)
	var t callTarget
	digits := strings.TrimPrefix(num, "+")
	global := len(digits) < len(num)
	switch {
	case digits == "":
		return t, fmt.Errorf("%w: the link has no number", errBadLink)
	case global && !allIn(digits, "0123456789"):
		return t, fmt.Errorf("%w: %q is not a phone number", errBadLink, num)
	case global && len(digits) > 15:
		return t, fmt.Errorf("%w: %q has more digits than any phone number (15)", errBadLink, num)
	case !global && !allIn(digits, "0123456789*#"):
		return t, fmt.Errorf("%w: %q is not a phone number", errBadLink, num)
	case len(digits) > maxNumberLen:
		return t, fmt.Errorf("%w: %q is too long for a phone number", errBadLink, num)
	}
	t.Dial = num
	for _, p := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		value, err := url.PathUnescape(value)
		if err != nil {
			return callTarget{}, fmt.Errorf("%w: broken %%-escape in ;%s", errBadLink, name)
		}
		switch strings.ToLower(name) {
		case "ext":
			ext := stripVisual(value)
			if ext == "" || len(ext) > 16 || !allIn(ext, "0123456789*#") {
				return callTarget{}, fmt.Errorf("%w: extension %q is not digits", errBadLink, value)
			}
			t.Ext = ext
		case "phone-context":
			if !global && !validContext(value) {
				return callTarget{}, fmt.Errorf("%w: phone-context %q is neither a +number nor a domain", errBadLink, value)
			}
		}
	}
	return t, nil
}

// validContext: a global number prefix ("+81") or a domain name.
func validContext(v string) bool {
	if d, ok := strings.CutPrefix(v, "+"); ok {
		d = stripVisual(d)
		return d != "" && allIn(d, "0123456789")
	}
	return validHostname(v)
}

// parseSIPLink reads the part after "sip:" or "sips:" and rebuilds a clean
// scheme:user@host[:port] from it.
func parseSIPLink(scheme, s string) (callTarget, error) {
	s, _, _ = strings.Cut(s, "?") // headers: never taken from a link
	userinfo, hostpart, hasUser := "", s, false
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		userinfo, hostpart, hasUser = s[:i], s[i+1:], true
	}
	hostport, _, _ := strings.Cut(hostpart, ";") // URI parameters: dropped
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return callTarget{}, err
	}
	target := scheme + ":"
	if hasUser {
		user, _, _ := strings.Cut(userinfo, ";") // user parameters (;phone-context=…): dropped
		if strings.Contains(user, ":") {
			return callTarget{}, fmt.Errorf("%w: the link carries a password", errBadLink)
		}
		if user, err = url.PathUnescape(user); err != nil {
			return callTarget{}, fmt.Errorf("%w: broken %%-escape in the user", errBadLink)
		}
		if user == "" || len(user) > maxUserLen || !allIn(user, userChars) {
			return callTarget{}, fmt.Errorf("%w: %q is not a SIP user name or number", errBadLink, user)
		}
		target += user + "@"
	}
	target += host
	if port != "" {
		target += ":" + port
	}
	return callTarget{Dial: target}, nil
}

// userChars may stand unescaped in a SIP user part and mean nothing else
// to a shell, a URI or a header.
const userChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'+"

// splitHostPort checks host[:port], with IPv6 in brackets.
func splitHostPort(hp string) (host, port string, err error) {
	host = hp
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", fmt.Errorf("%w: unclosed [ in the host", errBadLink)
		}
		host, port = hp[:end+1], strings.TrimPrefix(hp[end+1:], ":")
		if a, err := netip.ParseAddr(hp[1:end]); err != nil || !a.Is6() {
			return "", "", fmt.Errorf("%w: %q is not an IPv6 address", errBadLink, host)
		}
	} else if h, p, ok := strings.Cut(hp, ":"); ok {
		host, port = h, p
		if !validHostname(host) {
			return "", "", fmt.Errorf("%w: %q is not a host name", errBadLink, host)
		}
	} else if !validHostname(host) {
		return "", "", fmt.Errorf("%w: %q is not a host name", errBadLink, host)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", "", fmt.Errorf("%w: port %q is not a number from 1 to 65535", errBadLink, port)
		}
	}
	return host, port, nil
}

// validHostname: letters, digits and hyphens in dot-separated labels (an
// IPv4 address passes too).
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			!allIn(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") {
			return false
		}
	}
	return true
}

func allIn(s, set string) bool {
	for _, r := range s {
		if !strings.ContainsRune(set, r) {
			return false
		}
	}
	return true
}

// opener runs "opdesk open".
type opener struct {
	stdout, stderr io.Writer
	env            []string
	getenv         func(string) string
	lookPath       func(string) (string, error)
	executable     func() (string, error)
	// notify, when set, also shows messages on the desktop: a browser that
	// starts opdesk open shows no terminal.
	notify func(msg string)
}

// runOpen is "opdesk open URL" and "opdesk open --install".
func runOpen(cfgArgs, rest []string, stdout, stderr io.Writer) int {
	o := &opener{stdout: stdout, stderr: stderr, env: os.Environ(), getenv: os.Getenv,
		lookPath: exec.LookPath, executable: os.Executable}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		o.notify = notifyDesktop
	}
	return o.run(cfgArgs, rest)
}

func (o *opener) run(cfgArgs, rest []string) int {
	if len(rest) != 1 {
		fmt.Fprint(o.stderr, openUsage)
		return 2
	}
	if rest[0] == "--install" {
		return o.install()
	}
	t, err := parseCallURL(rest[0])
	if err != nil {
		o.fail(err.Error())
		return 1
	}
	cfg, err := config.Load(config.LoadOptions{Args: cfgArgs, Environ: o.env})
	if err != nil {
		fmt.Fprintf(o.stderr, "opdesk: configuration problem:\n%v\n", err)
		o.notifyOnly("opdesk: the configuration does not load; run opdesk doctor")
		return 2
	}
	_, rep, err := ctl.Call(cfg.Ctl.Socket, ctl.Request{Cmd: "dial", Args: []string{t.Dial}})
	switch {
	case errors.Is(err, ctl.ErrNotRunning):
		o.fail("opdesk is not running; start it, then click again")
		return 1
	case err != nil:
		o.fail("cannot reach the running opdesk: " + err.Error())
		return 1
	case !rep.OK:
		o.fail("opdesk could not call " + t.Dial + ": " + rep.Error)
		return 1
	}
	msg := "opdesk: calling " + t.Dial
	if rep.Call != "" {
		msg += " (call " + rep.Call + ")"
	}
	fmt.Fprintln(o.stdout, msg)
	if t.Ext != "" {
		fmt.Fprintf(o.stdout, "opdesk: then key in extension %s once answered (opdesk ctl dtmf %s %s)\n", t.Ext, t.Ext, rep.Call)
		o.notifyOnly("opdesk: calling " + t.Dial + "; key in extension " + t.Ext + " once answered")
	}
	return 0
}

// fail prints msg on stderr and, when nobody watches a terminal, on the desktop.
func (o *opener) fail(msg string) {
	fmt.Fprintln(o.stderr, "opdesk:", msg)
	o.notifyOnly("opdesk: " + msg)
}

func (o *opener) notifyOnly(msg string) {
	if o.notify != nil {
		o.notify(msg)
	}
}

// notifyDesktop shows msg with notify-send when there is one.
func notifyDesktop(msg string) {
	if p, err := exec.LookPath("notify-send"); err == nil {
		_ = exec.Command(p, "--app-name=opdesk", "opdesk", msg).Run()
	}
}

// install writes the desktop entry to $XDG_DATA_HOME/applications and makes
// it the handler of tel:, sip: and sips: links.
func (o *opener) install() int {
	dataHome := o.getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(dataHome) {
		home := o.getenv("HOME")
		if home == "" {
			fmt.Fprintln(o.stderr, "opdesk: neither XDG_DATA_HOME nor HOME is set; cannot tell where desktop entries go")
			return 1
		}
		dataHome = filepath.Join(home, ".local", "share")
	}
	exe, err := o.executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintf(o.stderr, "opdesk: cannot find this program's path: %v\n", err)
		return 1
	}
	execLine, err := desktopExec(exe)
	if err != nil {
		fmt.Fprintf(o.stderr, "opdesk: %v\n", err)
		return 1
	}
	entry := strings.Replace(desktopEntry, "Exec=opdesk open %u", "Exec="+execLine+" open %u", 1)
	dir := filepath.Join(dataHome, "applications")
	path := filepath.Join(dir, desktopFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(o.stderr, "opdesk: cannot create %s: %v\n", dir, err)
		return 1
	}
	if err := os.WriteFile(path, []byte(entry), 0o644); err != nil {
		fmt.Fprintf(o.stderr, "opdesk: cannot write %s: %v\n", path, err)
		return 1
	}
	fmt.Fprintf(o.stdout, "wrote %s (runs %s open URL)\n", path, exe)

	cmds := make([][]string, len(openSchemes))
	for i, s := range openSchemes {
		cmds[i] = []string{"xdg-mime", "default", desktopFile, "x-scheme-handler/" + s}
	}
	xdgMime, err := o.lookPath("xdg-mime")
	if err != nil {
		fmt.Fprintln(o.stdout, "xdg-mime is not installed; to make opdesk the handler of tel: and sip: links, run:")
		for _, c := range cmds {
			fmt.Fprintln(o.stdout, "  "+strings.Join(c, " "))
		}
		return 0
	}
	failed := false
	for _, c := range cmds {
		out, err := exec.Command(xdgMime, c[1:]...).CombinedOutput()
		if err != nil {
			failed = true
			fmt.Fprintf(o.stderr, "opdesk: %s failed: %v %s\n", strings.Join(c, " "), err, strings.TrimSpace(string(out)))
			continue
		}
		fmt.Fprintf(o.stdout, "%s: done\n", strings.Join(c, " "))
	}
	if failed {
		return 1
	}
	fmt.Fprintln(o.stdout, "tel: and sip: links now call through opdesk (a browser may ask once which program to use)")
	return 0
}

// desktopExec quotes a program path for a desktop entry's Exec key (Desktop
// Entry Specification, "The Exec key"): reserved characters put the path in
// double quotes with ", `, $ and \ escaped; then, as for every string value,
// each backslash is doubled; and a literal % is written %%.
func desktopExec(path string) (string, error) {
	for _, r := range path {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("this program's path %q holds a control character; move it", path)
		}
	}
	s := path
	if strings.ContainsAny(s, " \t\"'\\><~|&;$*?#()`") {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			if strings.ContainsRune("\"`$\\", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
		s = b.String()
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "%", "%%"), nil
}
