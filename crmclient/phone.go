package crmclient

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"
)

// maxPhoneInput bounds the work done on a number typed or imported by a person;
// nothing longer is a phone number, and libphonenumber's parser is not cheap.
const maxPhoneInput = 64

// dashLike are the characters Japanese input methods and spreadsheets produce where a
// hyphen is meant: the long-vowel mark "ー", minus signs and assorted dashes.
// libphonenumber ignores ASCII '-' but not all of these, so they are mapped first.
var dashLike = strings.NewReplacer(
	"ー", "-", "ｰ", "-", "−", "-", "‐", "-", "‑", "-", "‒", "-", "–", "-", "—", "-", "―", "-",
)

// NormalizePhone turns a number as people write it ("03-1234-5678",
// "０３（１２３４）５６７８", "+81 3 1234 5678", "090ー1234ー5678") into E.164
// ("+81312345678"), the only form the CRM stores and matches on.
//
// defaultRegion is the ISO 3166 region ("JP") used for numbers written without a
// country code; it comes from configuration because the same digits mean different
// numbers in different countries. Numbers that libphonenumber does not consider valid
// for their region are rejected, so a typo fails here with a clear message instead of
// silently matching nobody. Every error wraps ErrInvalidPhone.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPhone)
	}
	if len(s) > maxPhoneInput {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidPhone, maxPhoneInput)
	}
	// Full-width digits, parentheses, plus and spaces become ASCII.
	s = dashLike.Replace(width.Fold.String(s))
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			// libphonenumber would read letters as a vanity number (1-800-FLOWERS);
			// in a CRM they are typos or an extension field pasted in.
			return "", fmt.Errorf("%w: %q contains letters", ErrInvalidPhone, raw)
		}
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if !strings.HasPrefix(s, "+") && !phonenumbers.GetSupportedRegions()[region] {
		return "", fmt.Errorf("%w: %q has no country code and default region %q is unknown",
			ErrInvalidPhone, raw, defaultRegion)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidPhone, raw, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: %q is not a valid number for region %s",
			ErrInvalidPhone, raw, regionOf(num, region))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// regionOf names the region a parsed number belongs to, for error messages.
func regionOf(num *phonenumbers.PhoneNumber, fallback string) string {
	if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
		return r
	}
	if r := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())); r != "" && r != "ZZ" {
		return r
	}
	return fallback
}

// Dial string formats (see DialString).
const (
	DialNational = "national" // national form at home, the home country's international prefix abroad
	DialE164     = "e164"     // "+81312345678", for PBXs and carriers that take E.164
)

// DialString is how the PBX is asked to call an E.164 number from homeRegion:
// format "national" (default, ""): a number of homeRegion in national form
// without separators ("0312345678"), any other number with homeRegion's
// international prefix ("010" + country code + number from Japan, "011…"
// from the US) — phonenumbers.FormatOutOfCountryCallingNumber, digits only;
// format "e164": "+81312345678" as it is.
//
// In the North American Numbering Plan, where a call outside the local area is
// "1" + area code + number, a number of the plan (the home country's own or
// Canada's from the US) is dialled that way ("14155552671"), as libphonenumber
// formats it. A home region without a single international prefix keeps the
// "+" form.
// Errors wrap ErrInvalidPhone for a number that is not valid E.164 or not a
// valid number; an unknown format or home region is an error that names it.
func DialString(e164, homeRegion, format string) (string, error) {
	num, err := parseE164(e164)
	if err != nil {
		return "", err
	}
	switch format {
	case DialE164:
		return e164, nil
	case "", DialNational:
	default:
		return "", fmt.Errorf("dial format %q is unknown; use %q or %q", format, DialNational, DialE164)
	}
	region := strings.ToUpper(strings.TrimSpace(homeRegion))
	if !phonenumbers.GetSupportedRegions()[region] {
		return "", fmt.Errorf("home region %q is not an ISO 3166 region code such as JP or US", homeRegion)
	}
	out := phonenumbers.FormatOutOfCountryCallingNumber(num, region)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, out)
	if strings.HasPrefix(out, "+") {
		return "+" + digits, nil
	}
	return digits, nil
}

// parseE164 reads a number that must already be E.164 and valid: what the CRM
// stores, so anything else is a bug or tampering, not a typo to be forgiven.
func parseE164(e164 string) (*phonenumbers.PhoneNumber, error) {
	if len(e164) < 3 || len(e164) > 16 || e164[0] != '+' || strings.IndexFunc(e164[1:], func(r rune) bool {
		return r < '0' || r > '9'
	}) >= 0 {
		return nil, fmt.Errorf("%w: %q is not an E.164 number such as +81312345678", ErrInvalidPhone, e164)
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil || !phonenumbers.IsValidNumber(num) || phonenumbers.Format(num, phonenumbers.E164) != e164 {
		return nil, fmt.Errorf("%w: %s is not a valid number", ErrInvalidPhone, e164)
	}
	return num, nil
}
