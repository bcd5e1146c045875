package crmclient

import (
	"errors"
	"strings"
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

func TestDialString(t *testing.T) {
	for _, tt := range []struct {
		e164, home, format, want string
	}{
		{"+81312345678", "JP", "", "0312345678"},             // Tokyo fixed line at home
		{"+81312345678", "JP", "national", "0312345678"},     // the default, named
		{"+819012345678", "JP", "", "09012345678"},           // mobile
		{"+81120123456", "JP", "", "0120123456"},             // 0120 toll-free
		{"+81661234567", "jp", "", "0661234567"},             // region case-insensitive
		{"+14155552671", "JP", "", "01014155552671"},         // US from Japan: 010
		{"+442071234567", "JP", "", "010442071234567"},       // London from Japan
		{"+14155552671", "US", "", "14155552671"},            // at home in the US: 1 + area code, as NANP dials
		{"+81312345678", "US", "", "01181312345678"},         // Tokyo from the US: 011
		{"+819012345678", "US", "", "011819012345678"},       // Japanese mobile from the US
		{"+442071234567", "US", "", "011442071234567"},       // London from the US
		{"+16135550123", "US", "", "16135550123"},            // Canada from the US: same country code
		{"+81312345678", "JP", "e164", "+81312345678"},       // as it is
		{"+14155552671", "", "e164", "+14155552671"},         // no home region needed
		{"+442071234567", "GB", "national", "02071234567"},   // at home in the UK
		{"+81312345678", "GB", "national", "0081312345678"},  // Tokyo from the UK: 00
		{"+819012345678", "JP", DialNational, "09012345678"}, // the constant
	} {
		got, err := DialString(tt.e164, tt.home, tt.format)
		if err != nil || got != tt.want {
			t.Errorf("DialString(%q, %q, %q) = %q, %v; want %q", tt.e164, tt.home, tt.format, got, err, tt.want)
		}
	}
}

func TestDialStringRejects(t *testing.T) {
	for _, tt := range []struct {
		e164, home, format string
		phone              bool   // the error wraps ErrInvalidPhone
		says               string // and names what is wrong
	}{
		{"", "JP", "", true, `""`},
		{"0312345678", "JP", "", true, "not an E.164"},                // national form
		{"+81 3 1234 5678", "JP", "", true, "not an E.164"},           // separators
		{"+81-3-1234-5678", "JP", "", true, "not an E.164"},           //
		{"+8131234", "JP", "", true, "not a valid number"},            // too short for Tokyo
		{"+999123456789", "JP", "", true, "not a valid number"},       // no such country code
		{"+0312345678", "JP", "", true, "not a valid number"},         //
		{"+81312345678901234", "JP", "", true, "not an E.164"},        // longer than E.164 allows
		{"' OR 1=1 --", "JP", "", true, "not an E.164"},               // garbage
		{"+８１３１２３４５６７８", "JP", "", true, "not an E.164"},              // full-width digits
		{"+81312345678", "JP", "sip", false, `dial format "sip"`},     // unknown format
		{"+81312345678", "XX", "national", false, `home region "XX"`}, // unknown region
		{"+81312345678", "", "", false, `home region ""`},             //
	} {
		got, err := DialString(tt.e164, tt.home, tt.format)
		if err == nil || errors.Is(err, ErrInvalidPhone) != tt.phone || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("DialString(%q, %q, %q) = %q, %v; want an error saying %q (ErrInvalidPhone: %v)",
				tt.e164, tt.home, tt.format, got, err, tt.says, tt.phone)
		}
	}
}

// FuzzDialString: a stored number and the configured region reach the PBX
// through DialString, so it never panics, and what it returns is digits (or
// "+" and digits).
func FuzzDialString(f *testing.F) {
	for _, s := range []string{"+81312345678", "+14155552671", "+", "+0", "0312345678"} {
		f.Add(s, "JP")
	}
	f.Fuzz(func(t *testing.T, e164, home string) {
		got, err := DialString(e164, home, "")
		if err != nil {
			return
		}
		if strings.TrimLeft(strings.TrimPrefix(got, "+"), "0123456789") != "" || got == "" || got == "+" {
			t.Fatalf("DialString(%q, %q) = %q", e164, home, got)
		}
	})
}
