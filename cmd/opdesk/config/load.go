package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// LoadOptions tells [Load] where to look.
type LoadOptions struct {
	// Path is the config file. If empty: --config in Args, else
	// OPDESK_CONFIG, else $XDG_CONFIG_HOME/opdesk/config.toml (or
	// ~/.config/opdesk/config.toml). Only that last, default file may be
	// missing. --config in Args overrides Path.
	Path string
	// Args are configuration flags only (see [SplitArgs]):
	// --section.key=value, --section.key value, --config PATH. One dash
	// works as well as two.
	Args []string
	// Environ is the environment as KEY=VALUE, usually os.Environ(). Nil
	// means an empty environment (no HOME, no XDG variables). Every
	// OPDESK_* variable other than OPDESK_CONFIG must name a key.
	Environ []string
	// Keyring reads sip.password_keyring and crm.password_keyring entries;
	// nil means [SecretService]. Each lookup gets a context that ends after
	// 3 s. Tests put a map behind it.
	Keyring KeyringLookup
	// SkipKeyring leaves the keyring alone for commands that send no
	// password (opdesk ctl, opdesk audio list): a password that would come
	// from the keyring stays empty, and a locked or missing keyring costs
	// them nothing.
	SkipKeyring bool
}

// configEnv names the config file in the environment.
const configEnv = "OPDESK_CONFIG"

// maxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes including the terminating NUL).
const maxSocketPath = 107

// loader carries one Load call.
type loader struct {
	cfg      Config
	src      map[string]Source // where each key's current value came from; absent = default
	env      map[string]string
	keyFlags []KeyOverride // --keys.* flags, applied after the environment
	errs     []*Error
	warnings []string
	keyring  KeyringLookup // nil: SecretService
	// fromKeyring are the sections ("sip", "crm") whose password is to be
	// read from the keyring once the rest of the configuration is valid.
	fromKeyring []string
}

func (l *loader) getenv(name string) string { return l.env[name] }

// flagSetting is one --section.key flag from LoadOptions.Args.
type flagSetting struct {
	f     *field
	value string
}

// Load builds the configuration from defaults, the config file, the
// environment and flags, each overriding the one before. On failure it
// returns every problem, joined; each is an [*Error].
func Load(opts LoadOptions) (*Config, error) {
	l := &loader{cfg: defaults(), src: make(map[string]Source), env: make(map[string]string), keyring: opts.Keyring}
	for _, kv := range opts.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			l.env[k] = v
		}
	}

	flags, flagPath := l.parseArgs(opts.Args)
	path, from, explicit := l.configPath(opts.Path, flagPath)
	if path != "" {
		l.loadFile(path, from, explicit)
	}
	l.loadEnv()
	for _, s := range flags {
		l.set(s.f, Source{Flag: s.f.flag()}, s.value)
		if k := s.f.key; k == "sip.password" || k == "crm.password" {
			sec, _, _ := strings.Cut(k, ".")
			l.warnings = append(l.warnings, fmt.Sprintf("flag --%s: every user of this machine can read it in the process list; use %s or %s.password_file", k, envName(k), sec))
		}
	}
	l.cfg.Keys = append(l.cfg.Keys, l.keyFlags...)
	l.resolvePaths()
	l.readPasswords()
	l.validate()
	if len(l.errs) == 0 && !opts.SkipKeyring {
		// Last, and only for a configuration that loads: a D-Bus round
		// trip (or a 3 s wait on a locked keyring) is not spent on one
		// that will be refused anyway.
		l.readKeyrings()
	}

	if len(l.errs) > 0 {
		// Fix-in-order: the file top to bottom, then variables, then flags.
		slices.SortStableFunc(l.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Source.rank(), b.Source.rank()), cmp.Compare(a.Source.Line, b.Source.Line))
		})
		errs := make([]error, len(l.errs))
		for i, e := range l.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	l.cfg.Warnings = l.warnings
	return &l.cfg, nil
}

// parseArgs splits Args into settings and the --config path.
func (l *loader) parseArgs(args []string) (settings []flagSetting, configPath string) {
	for i := 0; i < len(args); i++ {
		name, value, hasValue, ok := parseFlag(args[i])
		if !ok {
			l.errs = append(l.errs, &Error{Err: ErrUnknownKey,
				msg: fmt.Sprintf("argument %q is not a --section.key=value flag", args[i])})
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				l.errs = append(l.errs, &Error{Source: Source{Flag: "--" + name}, Key: name, Err: ErrInvalid, msg: "needs a value"})
				continue
			}
			i++
			value = args[i]
		}
		if name == "config" {
			configPath = value
			continue
		}
		if rest, ok := strings.CutPrefix(name, keysSection+"."); ok {
			// --keys.answer=f2,a or --keys.call.hangup=f4
			ctx, action, hasCtx := strings.Cut(rest, ".")
			if !hasCtx {
				ctx, action = "", rest
			}
			if action == "" || ctx == "" && hasCtx || strings.Contains(action, ".") {
				l.errs = append(l.errs, &Error{Source: Source{Flag: "--" + name}, Key: name, Err: ErrUnknownKey,
					msg: "is not --keys.ACTION or --keys.CONTEXT.ACTION"})
				continue
			}
			l.keyFlags = append(l.keyFlags, KeyOverride{Action: action, Context: ctx, Keys: splitKeyList(value),
				Source: Source{Flag: "--" + name}.String()})
			continue
		}
		f := lookupKey(name)
		if f == nil {
			l.errs = append(l.errs, &Error{Source: Source{Flag: "--" + name}, Key: name, Err: ErrUnknownKey,
				msg: "unknown setting" + didYouMean(suggest(name, keyNames()), func(s string) string { return "--" + s })})
			continue
		}
		settings = append(settings, flagSetting{f: f, value: value})
	}
	return settings, configPath
}

// configPath picks the config file; see LoadOptions.Path.
func (l *loader) configPath(optPath, flagPath string) (path string, from Source, explicit bool) {
	switch {
	case flagPath != "":
		return resolvePath(flagPath, Source{}, l.getenv), Source{Flag: "--config"}, true
	case optPath != "":
		return resolvePath(optPath, Source{}, l.getenv), Source{}, true
	case l.env[configEnv] != "":
		return resolvePath(l.env[configEnv], Source{}, l.getenv), Source{Env: configEnv}, true
	}
	dir, err := configDir(l.getenv)
	if err != nil {
		return "", Source{}, false // no home: nothing to read, defaults apply
	}
	return filepath.Join(dir, "config.toml"), Source{}, false
}

// loadEnv applies OPDESK_* variables, in name order.
func (l *loader) loadEnv() {
	names := make([]string, 0, len(l.env))
	for name := range l.env {
		if strings.HasPrefix(name, "OPDESK_") && name != configEnv {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if action, ok := strings.CutPrefix(name, keysEnv); ok && action != "" {
			// OPDESK_KEYS_ANSWER=f2,a. A variable cannot name a context:
			// OPDESK_KEYS_CALL_HANGUP is the action "call_hangup", which
			// keymap rejects with a pointer to [keys.call].
			l.cfg.Keys = append(l.cfg.Keys, KeyOverride{Action: strings.ToLower(action),
				Keys: splitKeyList(l.env[name]), Source: Source{Env: name}.String()})
			continue
		}
		f := lookupEnv(name)
		if f == nil {
			envNames := make([]string, len(fields))
			for i := range fields {
				envNames[i] = fields[i].env()
			}
			// Other programs (and test harnesses) use OPDESK_ names too; an
			// unknown one is worth a warning, not a refusal to start.
			l.warnings = append(l.warnings, "environment "+name+" is not an opdesk setting and is ignored"+
				didYouMean(suggest(name, envNames), func(s string) string { return s }))
			continue
		}
		l.set(f, Source{Env: name}, l.env[name])
	}
}

// set applies a text value from the environment or a flag.
func (l *loader) set(f *field, src Source, value string) {
	if msg := f.setText(&l.cfg, value); msg != "" {
		l.errs = append(l.errs, valueError(src, f.key, ErrType, msg))
		return
	}
	l.src[f.key] = src
}

// resolvePaths expands "~/" and file-relative paths, and fills the
// defaults that depend on the environment.
func (l *loader) resolvePaths() {
	c := &l.cfg
	c.SIP.PasswordFile = resolvePath(c.SIP.PasswordFile, l.src["sip.password_file"], l.getenv)
	c.CRM.PasswordFile = resolvePath(c.CRM.PasswordFile, l.src["crm.password_file"], l.getenv)
	c.SIP.TLSCAFile = resolvePath(c.SIP.TLSCAFile, l.src["sip.tls_ca_file"], l.getenv)
	for _, p := range []struct {
		key  string
		v    *string
		def  func(func(string) string) (string, error)
		vars string // "": optional, no default leaves it empty
	}{
		{"ctl.socket", &c.Ctl.Socket, defaultSocket, "XDG_RUNTIME_DIR, XDG_STATE_HOME or HOME"},
		{"log.file", &c.Log.File, defaultLogFile, "XDG_STATE_HOME or HOME"},
		{"audio.recordings", &c.Audio.Recordings, defaultRecordings, ""}, // empty: recording unavailable
	} {
		if _, set := l.src[p.key]; set {
			*p.v = resolvePath(*p.v, l.src[p.key], l.getenv)
			continue
		}
		d, err := p.def(l.getenv)
		if err != nil && p.vars == "" {
			continue
		}
		if err != nil {
			l.errs = append(l.errs, valueError(Source{}, p.key, ErrInvalid,
				fmt.Sprintf("no default without %s in the environment; set %s", p.vars, p.key)))
			continue
		}
		*p.v = d
	}
}

// readPasswords settles where sip.password and crm.password come from, and
// reads the ones that come from a password_file.
func (l *loader) readPasswords() {
	c := &l.cfg
	l.readPassword("sip", &c.SIP.Password, c.SIP.PasswordFile, c.SIP.PasswordKeyring)
	l.readPassword("crm", &c.CRM.Password, c.CRM.PasswordFile, c.CRM.PasswordKeyring)
}

// readPassword picks SECTION's password from SECTION.password,
// SECTION.password_file (path) and SECTION.password_keyring (entry): the
// one set in the highest-precedence source wins; two set in the same source
// are an error. A password file is read now; a keyring entry is noted for
// readKeyrings.
func (l *loader) readPassword(section string, password *Secret, path, entry string) {
	cands := [...]struct {
		key string
		set bool
	}{{section + ".password", *password != ""}, {section + ".password_file", path != ""}, {section + ".password_keyring", entry != ""}}
	win := -1
	for i, a := range cands {
		if !a.set {
			continue
		}
		for _, b := range cands[i+1:] {
			if b.set && l.src[b.key].rank() == l.src[a.key].rank() {
				l.errs = append(l.errs, valueError(l.src[b.key], b.key, ErrInvalid, a.key+" is set too; keep one of them"))
				return
			}
		}
		if win < 0 || l.src[a.key].rank() > l.src[cands[win].key].rank() {
			win = i
		}
	}
	switch win {
	case 1:
		l.readPasswordFile(section, path, password)
	case 2:
		*password = "" // a lower-precedence password must not stand in for the keyring's
		l.fromKeyring = append(l.fromKeyring, section)
	}
}

// readKeyrings reads the passwords readPassword left to the keyring.
func (l *loader) readKeyrings() {
	c := &l.cfg
	for _, section := range l.fromKeyring {
		switch section {
		case "sip":
			l.readKeyring(section, c.SIP.PasswordKeyring, &c.SIP.Password)
		case "crm":
			l.readKeyring(section, c.CRM.PasswordKeyring, &c.CRM.Password)
		}
	}
}

// readPasswordFile fills SECTION.password from SECTION.password_file (path).
func (l *loader) readPasswordFile(section, path string, password *Secret) {
	fileKey, pwKey := section+".password_file", section+".password"
	fileSrc := l.src[fileKey]
	data, err := os.ReadFile(path)
	if err != nil {
		e := valueError(fileSrc, fileKey, ErrInvalid, err.Error())
		e.Err = err // keeps fs.ErrNotExist and friends visible to errors.Is
		l.errs = append(l.errs, e)
		return
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		l.errs = append(l.errs, valueError(fileSrc, fileKey, ErrInvalid, path+" is empty"))
		return
	}
	*password = Secret(pw)
	l.src[pwKey] = fileSrc
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&^0o600 != 0 {
		w := valueError(fileSrc, fileKey, ErrInvalid, fmt.Sprintf(
			"%s has mode %04o, wider than 0600, so others may read the password; run chmod 600 %s",
			path, info.Mode().Perm(), path))
		l.warnings = append(l.warnings, w.Error())
	}
}

// SplitArgs separates configuration flags (--section.key=value,
// --section.key value, --config PATH; one or two dashes) from the rest, so
// the caller can parse its own flags from rest. A "--" ends the flags: it
// and everything after it go to rest.
func SplitArgs(args []string) (configArgs, rest []string) {
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		_, _, hasValue, ok := parseFlag(args[i])
		if !ok {
			rest = append(rest, args[i])
			continue
		}
		configArgs = append(configArgs, args[i])
		if !hasValue && i+1 < len(args) {
			i++
			configArgs = append(configArgs, args[i])
		}
	}
	return configArgs, rest
}

// parseFlag recognises a configuration flag: "-" or "--", then "config" or
// a dotted name that starts with a letter, then optionally "=value".
func parseFlag(arg string) (name, value string, hasValue, ok bool) {
	s, found := strings.CutPrefix(arg, "--")
	if !found {
		if s, found = strings.CutPrefix(arg, "-"); !found {
			return "", "", false, false
		}
	}
	name, value, hasValue = strings.Cut(s, "=")
	if name == "" || !('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z') {
		return "", "", false, false
	}
	if name != "config" && !strings.Contains(name, ".") {
		return "", "", false, false
	}
	return name, value, hasValue, true
}
