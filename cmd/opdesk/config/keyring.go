package config

// Passwords from the desktop keyring: the freedesktop Secret Service
// (GNOME Keyring, KeePassXC, KWallet's bridge) over the D-Bus session bus,
// through github.com/zalando/go-keyring. go-keyring stores and finds an
// entry by the attributes "service" and "username", which is what the
// secret-tool command in the error messages writes.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// KeyringLookup reads the secret stored under service and account in the
// desktop keyring. It must return [keyring.ErrNotFound] (or an error
// wrapping it) when there is no such entry, and give up when ctx ends.
type KeyringLookup func(ctx context.Context, service, account string) (string, error)

// keyringTimeout bounds one keyring lookup: a locked keyring can wait for
// an unlock prompt nobody sees, and a wedged D-Bus call never returns.
const keyringTimeout = 3 * time.Second

// SecretService is the [KeyringLookup] [Load] uses by default: the Secret
// Service on the session bus of opdesk's own environment
// (DBUS_SESSION_BUS_ADDRESS, else /run/user/UID/bus). It never starts a
// bus of its own (dbus-launch would leave one running). When ctx ends
// first it returns ctx's error; the D-Bus call it leaves behind ends by
// itself or with the process, which is acceptable once per start.
func SecretService(ctx context.Context, service, account string) (string, error) {
	if !sessionBusKnown() {
		return "", errNoSessionBus
	}
	type result struct {
		pw  string
		err error
	}
	ch := make(chan result, 1) // buffered: a late answer does not block the goroutine
	go func() {
		pw, err := keyring.Get(service, account)
		ch <- result{pw, err}
	}()
	select {
	case r := <-ch:
		return r.pw, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// errEmptyEntry: the entry exists and holds nothing.
var errEmptyEntry = errors.New("empty keyring entry")

// errNoSessionBus: there is no D-Bus session bus to ask.
var errNoSessionBus = errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and /run/user/UID/bus does not exist")

// sessionBusKnown reports whether godbus would find a session bus without
// autolaunching one.
func sessionBusKnown() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return true
	}
	run := fmt.Sprintf("/run/user/%d/", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(run + name); err == nil {
			return true
		}
	}
	return false
}

// readKeyring fills SECTION.password from the keyring entry "service/account"
// named by SECTION.password_keyring.
func (l *loader) readKeyring(section, entry string, password *Secret) {
	key, pwKey := section+".password_keyring", section+".password"
	src := l.src[key]
	service, account, ok := strings.Cut(entry, "/")
	if !ok || service == "" || account == "" {
		return // validate has said so
	}
	lookup := l.keyring
	if lookup == nil {
		lookup = SecretService
	}
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	pw, err := lookup(ctx, service, account)
	if err == nil && pw == "" {
		err = errEmptyEntry
	}
	if err != nil {
		e := valueError(src, key, ErrInvalid, keyringProblem(section, entry, err))
		e.Err = err // keeps keyring.ErrNotFound and context.DeadlineExceeded visible to errors.Is
		l.errs = append(l.errs, e)
		return
	}
	*password = Secret(pw)
	l.src[pwKey] = src
}

// keyringProblem says in words why the keyring gave no password, and what
// to do about it. The password never appears: the lookup failed.
func keyringProblem(section, entry string, err error) string {
	service, account, _ := strings.Cut(entry, "/")
	instead := fmt.Sprintf("or give the password in %s or %s.password_file", envName(section+".password"), section)
	store := fmt.Sprintf("secret-tool store --label=opdesk service %s username %s", shellWord(service), shellWord(account))
	var dbusErr dbus.Error
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Sprintf("the keyring has no entry %s: store it with %s", entry, store)
	case errors.Is(err, errEmptyEntry):
		return fmt.Sprintf("the keyring entry %s is empty: store the password with %s", entry, store)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the keyring did not answer within %v (locked, and waiting for an unlock prompt?): unlock it, %s",
			keyringTimeout, instead)
	case errors.Is(err, errNoSessionBus):
		return fmt.Sprintf("no keyring service is running (%v): start opdesk in your desktop session, %s", err, instead)
	case errors.As(err, &dbusErr) && (dbusErr.Name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
		dbusErr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner"):
		return fmt.Sprintf("no keyring service is running (nothing on the session bus provides the Secret Service): start gnome-keyring-daemon or KeePassXC's Secret Service, %s", instead)
	case strings.Contains(err.Error(), "unlock"):
		// go-keyring's words when the unlock prompt was dismissed.
		return fmt.Sprintf("the keyring is locked (%v): unlock it (log in to the desktop, or open Passwords and Keys), %s", err, instead)
	}
	return fmt.Sprintf("cannot read the keyring entry %s (%v): %s", entry, err, instead)
}

// shellWord quotes s for a shell command line when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '@' || r == '+' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
