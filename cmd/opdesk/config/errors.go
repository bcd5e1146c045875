package config

import (
	"errors"
	"strconv"
)

// Sentinels wrapped by every [*Error] that [Load] returns.
var (
	// ErrSyntax: the config file is not valid TOML.
	ErrSyntax = errors.New("invalid TOML")
	// ErrUnknownKey: a key, section, environment variable or flag that
	// opdesk does not know (usually a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrType: a value of the wrong type, such as a string where a number
	// is expected.
	ErrType = errors.New("wrong type")
	// ErrInvalid: a value of the right type that opdesk cannot use.
	ErrInvalid = errors.New("invalid value")
)

// ErrNoHome is returned by [ConfigDir] and [StateDir] when neither the XDG
// variable nor HOME gives a directory.
var ErrNoHome = errors.New("neither the XDG directory variable nor HOME is set")

// Source says where a setting came from. At most one of File, Env and Flag
// is set; none means the built-in default.
type Source struct {
	File string // config file path
	Line int    // line in File, 1-based; 0 if unknown
	Env  string // environment variable, e.g. "OPDESK_SIP_EXPIRES"
	Flag string // flag, e.g. "--sip.expires"
}

// String renders the source as an error prefix: "path:line",
// "environment NAME", "flag --name", or "" for a default.
func (s Source) String() string {
	switch {
	case s.Flag != "":
		return "flag " + s.Flag
	case s.Env != "":
		return "environment " + s.Env
	case s.File != "" && s.Line > 0:
		return s.File + ":" + strconv.Itoa(s.Line)
	default:
		return s.File
	}
}

// namesKey reports whether the source already names the key (an
// environment variable or a flag is the key), so messages need not repeat it.
func (s Source) namesKey() bool { return s.Env != "" || s.Flag != "" }

// rank orders sources by precedence: default, file, environment, flag.
func (s Source) rank() int {
	switch {
	case s.Flag != "":
		return 3
	case s.Env != "":
		return 2
	case s.File != "":
		return 1
	default:
		return 0
	}
}

// Error is one problem found by [Load]. Its message starts with the
// source, so a person knows which line or variable to fix.
type Error struct {
	Source Source // where the offending value came from
	Key    string // the key as written, e.g. "sip.expires"
	Err    error  // ErrSyntax, ErrUnknownKey, ErrType, ErrInvalid, or the *fs.PathError of a file that cannot be read
	msg    string // the message after the source
}

func (e *Error) Error() string {
	if s := e.Source.String(); s != "" {
		return s + ": " + e.msg
	}
	return e.msg
}

func (e *Error) Unwrap() error { return e.Err }

// valueError builds an error about the value of key. The key is named in
// the message unless the source (a variable or flag) already names it.
func valueError(src Source, key string, sentinel error, text string) *Error {
	if !src.namesKey() {
		text = key + ": " + text
	}
	return &Error{Source: src, Key: key, Err: sentinel, msg: text}
}
