package crmclient

import (
	"errors"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw, region, want string
	}{
		{"03-1234-5678", "JP", "+81312345678"},
		{"０３（１２３４）５６７８", "JP", "+81312345678"},
		{"０３－１２３４－５６７８", "JP", "+81312345678"},
		{"03ー1234ー5678", "JP", "+81312345678"},
		{"+81 3 1234 5678", "JP", "+81312345678"},
		{"+81 3 1234 5678", "", "+81312345678"},
		{"+81-3-1234-5678", "US", "+81312345678"},
		{"(03) 1234 5678", "jp", "+81312345678"},
		{"0312345678", "JP", "+81312345678"},
		{"06-6123-4567", "JP", "+81661234567"},
		{"090-1234-5678", "JP", "+819012345678"},
		{"０８０　１２３４　５６７８", "JP", "+818012345678"},
		{"  080.1234.5678  ", "JP", "+818012345678"},
		{"+1 415 555 2671", "JP", "+14155552671"},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.raw, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	for _, tt := range []struct{ raw, region string }{
		{"", "JP"},
		{"   ", "JP"},
		{"12", "JP"},
		{"03-1234", "JP"},
		{"0120-ABC-DEF", "JP"},
		{"' OR 1=1 --", "JP"},
		{"03-1234-5678", ""},
		{"03-1234-5678", "XX"},
		{"+999 1234 5678", "JP"},
		{"0312345678901234567890123456789012345678901234567890123456789012345", "JP"},
	} {
		got, err := NormalizePhone(tt.raw, tt.region)
		if !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want ErrInvalidPhone", tt.raw, tt.region, got, err)
		}
	}
}

// FuzzNormalizePhone: numbers come from SIP headers and imported spreadsheets, so
// the normaliser must never panic, and its output must be a fixed point.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"03-1234-5678", "０３（１２３４）５６７８", "+81 3 1234 5678", "", "+", "ー"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizePhone(raw, "JP")
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("error %v does not wrap ErrInvalidPhone", err)
			}
			return
		}
		again, err := NormalizePhone(got, "JP")
		if err != nil || again != got {
			t.Fatalf("not a fixed point: %q → %q → %q, %v", raw, got, again, err)
		}
	})
}
