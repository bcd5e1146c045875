package main

import (
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/keymap"
)

// keyMap is the desktop's key map: the defaults with the config's [keys]
// overrides applied. The config package only checks the section's types;
// keymap knows the actions and keys, so its errors (unknown action, a key
// no terminal sends, two actions on one key) come from here, each starting
// with the config line, variable or flag it is about.
func keyMap(cfg *config.Config) (*keymap.Map, error) {
	m := keymap.Default()
	overrides := make([]keymap.Override, len(cfg.Keys))
	for i, k := range cfg.Keys {
		overrides[i] = keymap.Override{Action: k.Action, Keys: k.Keys, Context: k.Context, Source: k.Source}
	}
	if err := m.Apply(overrides); err != nil {
		return nil, err
	}
	return m, nil
}
