// Package config loads opdesk's settings from defaults, a TOML file, the
// environment and command-line flags, in that order of precedence:
//
//	defaults < config file < OPDESK_SECTION_KEY variables < --section.key flags
//
// The file is $XDG_CONFIG_HOME/opdesk/config.toml (else
// ~/.config/opdesk/config.toml); --config PATH or OPDESK_CONFIG=PATH name
// another one. A missing default file means "use the defaults"; a missing
// file that was named explicitly is an error. Every key can be set from the
// environment (sip.expires → OPDESK_SIP_EXPIRES, media.rtp_port_min →
// OPDESK_MEDIA_RTP_PORT_MIN) and from a flag (--sip.expires=600 or
// --sip.expires 600). [SplitArgs] separates those flags from the program's
// own.
//
// # Secrets
//
// The SIP password comes, in order of preference, from OPDESK_SIP_PASSWORD,
// from sip.password_file (a file holding only the password, mode 0600),
// from the desktop keyring entry named by sip.password_keyring, or from
// sip.password in a config file that only its owner can read.
// --sip.password works, for quick tests, but every user of the machine can
// read it in the process list, so documentation and examples must show the
// environment variable, the file or the keyring, never the flag. Of
// sip.password, sip.password_file and sip.password_keyring, the one set in
// the highest-precedence source wins (flag > environment > config file);
// two of them in the same source are an error. So with password_file or
// password_keyring in the config file, OPDESK_SIP_PASSWORD overrides it for
// one run. The CRM password works the same way with the crm.* keys and
// OPDESK_CRM_PASSWORD.
//
// sip.password_keyring = "opdesk/alice" reads the entry of service "opdesk"
// and user "alice" from the freedesktop Secret Service (GNOME Keyring,
// KeePassXC, KWallet) on the session bus, as stored by
//
//	secret-tool store --label=opdesk service opdesk username alice
//
// The entry is looked up only when it wins, only once the rest of the
// configuration is valid, and for at most 3 s (a locked keyring may wait
// for an unlock prompt nobody sees); [LoadOptions.SkipKeyring] leaves it
// alone for commands that send no password. Every failure is an error that
// says what to do: "the keyring has no entry opdesk/alice: store it with
// secret-tool store …", "no keyring service is running (…)", "the keyring
// is locked", "did not answer within 3s". opdesk never starts a bus of its
// own; without DBUS_SESSION_BUS_ADDRESS (or /run/user/UID/bus) there is no
// keyring. [LoadOptions.Keyring] replaces the lookup in tests.
//
// A password is held as a [Secret], which prints as "***" through fmt,
// log/slog and encoding; [Config.String] and [Config.Redacted] never show
// it either. Call [Secret.Reveal] only where the password is sent to the
// PBX.
//
// # Errors
//
// [Load] reports every problem at once (joined with [errors.Join]) so that
// a file full of typos is fixed in one pass. Each problem is an [*Error]
// that names where the value came from and which key it is:
//
//	/home/ann/.config/opdesk/config.toml:12: unknown key "sip.expirs" (did you mean "sip.expires"?)
//	/home/ann/.config/opdesk/config.toml:5: sip.transport: must be udp, tcp or tls, got "tsl"
//	environment OPDESK_SIP_EXPIRES: expected a number of seconds, got "abc"
//	flag --sip.listen: "5060" is not host:port
//
// and wraps one of the sentinels [ErrSyntax], [ErrUnknownKey], [ErrType] or
// [ErrInvalid] for errors.Is, or, for a config or password file that cannot
// be read, the *fs.PathError (so errors.Is(err, fs.ErrNotExist) works), or,
// for a keyring entry that cannot be read, the lookup's error
// (keyring.ErrNotFound, context.DeadlineExceeded).
//
// Load may also return warnings in [Config.Warnings]: a password file or a
// config file holding the password that others can read, or a password
// given as a flag. The caller logs them.
//
// # Why the file is read twice
//
// go-toml's Decoder knows positions only for the errors it raises itself. A
// value that decodes fine but is wrong for opdesk (transport = "tls",
// expires = 30) carries no position, and those are most of the mistakes
// people make. So after decoding, the loader re-reads the document with
// go-toml's own parser (package unstable) to map every key to its line.
// That parser is exact where a hand-written scan of "[table]" and "key ="
// lines is not: multi-line strings that contain "key = ..." text, dotted
// keys (sip.expires = 300 at the top), inline tables and quoted keys. The
// unstable package has no semver promise; go.mod pins go-toml, and an API
// change would fail to compile rather than misreport lines.
//
// The file is decoded into a generic map rather than straight into
// [Config] with DisallowUnknownFields because the strict decoder stops at
// the first wrong type, while a map lets the loader report every unknown
// key and every wrong type with its own wording.
//
// # Keys
//
// The [keys] section rebinds the desktop's keys: `answer = "f2"` or
// `answer = ["f2", "a"]` for every context the action works in, and a
// [keys.call] table (`hangup = "f4"`) for one context only; `[]` removes an
// action's keys. OPDESK_KEYS_ANSWER=f2,a and --keys.answer=f2,a (or
// --keys.call.hangup=f4) take comma-separated keys; a variable cannot name a
// context. The loader checks only the types and records each line's
// position in [Config.Keys]; it does not know the actions. cmd applies them
// with keymap.Map.Apply, which rejects unknown actions, impossible key names
// and clashing keys, naming the same file:line. Keeping keymap out of this
// package lets every command load its configuration without the desktop.
//
// # Relative paths
//
// sip.password_file, ctl.socket and log.file may start with "~/". A
// relative path written in the config file is relative to the file's
// directory; one given in the environment or a flag is relative to the
// working directory.
package config
