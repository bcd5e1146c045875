package config

import (
	"os"
	"path/filepath"
	"strings"
)

const appName = "opdesk"

// ConfigDir returns $XDG_CONFIG_HOME/opdesk, else ~/.config/opdesk.
func ConfigDir() (string, error) { return configDir(os.Getenv) }

// StateDir returns $XDG_STATE_HOME/opdesk, else ~/.local/state/opdesk. The
// log file and, without XDG_RUNTIME_DIR, the control socket live there.
func StateDir() (string, error) { return stateDir(os.Getenv) }

func configDir(getenv func(string) string) (string, error) {
	return xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
}

func stateDir(getenv func(string) string) (string, error) {
	return xdgDir(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state"))
}

// xdgDir follows the XDG Base Directory spec: the variable if it holds an
// absolute path (relative ones must be ignored), else HOME/fallback.
func xdgDir(getenv func(string) string, variable, fallback string) (string, error) {
	if d := getenv(variable); filepath.IsAbs(d) {
		return filepath.Join(d, appName), nil
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, fallback, appName), nil
	}
	return "", ErrNoHome
}

// defaultSocket returns $XDG_RUNTIME_DIR/opdesk/ctl.sock, else
// <state dir>/ctl.sock.
func defaultSocket(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, appName, "ctl.sock"), nil
	}
	d, err := stateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "ctl.sock"), nil
}

// defaultLogFile returns <state dir>/opdesk.log.
func defaultLogFile(getenv func(string) string) (string, error) {
	d, err := stateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "opdesk.log"), nil
}

func defaultRecordings(getenv func(string) string) (string, error) {
	d, err := stateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "recordings"), nil
}

// resolvePath expands a leading "~/" and, for a path written in the config
// file, makes a relative path relative to the file's directory.
func resolvePath(p string, src Source, getenv func(string) string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home := getenv("HOME"); home != "" {
			p = filepath.Join(home, p[1:])
		}
	}
	if src.File != "" && p != "" && !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
		p = filepath.Join(filepath.Dir(src.File), p)
	}
	return p
}
