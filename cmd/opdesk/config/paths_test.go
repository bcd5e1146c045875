package config

import "testing"

func TestDirs(t *testing.T) {
	tests := []struct {
		name                  string
		home, config, state   string
		wantConfig, wantState string
		wantErr               error
	}{
		{name: "home", home: "/home/ann",
			wantConfig: "/home/ann/.config/opdesk", wantState: "/home/ann/.local/state/opdesk"},
		{name: "xdg", home: "/home/ann", config: "/cfg", state: "/st",
			wantConfig: "/cfg/opdesk", wantState: "/st/opdesk"},
		{name: "relative xdg is ignored", home: "/home/ann", config: "cfg", state: "st",
			wantConfig: "/home/ann/.config/opdesk", wantState: "/home/ann/.local/state/opdesk"},
		{name: "nothing", wantErr: ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", tt.home)
			t.Setenv("XDG_CONFIG_HOME", tt.config)
			t.Setenv("XDG_STATE_HOME", tt.state)
			c, errC := ConfigDir()
			s, errS := StateDir()
			if c != tt.wantConfig || s != tt.wantState || errC != tt.wantErr || errS != tt.wantErr {
				t.Errorf("ConfigDir() = %q, %v; StateDir() = %q, %v; want %q, %q, %v",
					c, errC, s, errS, tt.wantConfig, tt.wantState, tt.wantErr)
			}
		})
	}
}
