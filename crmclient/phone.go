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
