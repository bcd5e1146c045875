package sdp

import (
	"crypto/subtle"
	"fmt"

	psdp "github.com/pion/sdp/v3"
)

// keyring is a Session's side of SDES: our master keys.
//
// A key protects one stretch of SRTP only. A crypto context started afresh
// on a key already used (after a suite change or a plain interval) would
// guess rollover counter 0 and could reuse keystream (RFC 3711 §9.2), so a
// key leaves the ring for good once the negotiation moves away from it;
// keys that were offered but never used may be offered again, which keeps
// a re-offer byte-identical.
type keyring struct {
	cur   *crypto        // our side of the SRTP in use; nil: plain RTP
	fresh map[string]Key // offered, never used, by suite name
}

// offerLines returns our a=crypto lines for an offer: the suite, tag and
// key in use while there is SRTP, else one line per suite we offer.
func (k *keyring) offerLines() ([]crypto, error) {
	if k.cur != nil {
		return []crypto{*k.cur}, nil
	}
	var cs []crypto
	for _, su := range suites {
		if !su.offer {
			continue
		}
		key, err := k.freshKey(su)
		if err != nil {
			return nil, err
		}
		cs = append(cs, crypto{tag: uint32(len(cs) + 1), suite: su, key: key})
	}
	return cs, nil
}

// keyFor returns our key to answer with suite su: the one in use if su is
// in use, else a fresh one.
func (k *keyring) keyFor(su suite) (Key, error) {
	if k.cur != nil && k.cur.suite.name == su.name {
		return k.cur.key, nil
	}
	return k.freshKey(su)
}

func (k *keyring) freshKey(su suite) (Key, error) {
	if key, ok := k.fresh[su.name]; ok {
		return key, nil
	}
	key, err := newKey(su)
	if err != nil {
		return nil, err
	}
	if k.fresh == nil {
		k.fresh = map[string]Key{}
	}
	k.fresh[su.name] = key
	return key, nil
}

// settle records the outcome of a negotiation: ours is our side of the
// SRTP now in use, nil for plain RTP. A key no longer in use is dropped.
func (k *keyring) settle(ours *crypto) {
	if ours == nil {
		k.cur = nil
		return
	}
	c := *ours
	k.cur = &c
	if f, ok := k.fresh[c.suite.name]; ok && sameKey(f, c.key) {
		delete(k.fresh, c.suite.name)
	}
}

// sameKey compares keys in constant time. A peer sending our own key back
// is refused: our packets reflected to us would authenticate (RFC 4568
// §6.1 wants a key per direction).
func sameKey(a, b Key) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// pickCrypto returns the first a=crypto of an offered line that we can
// use (the offerer's preference, RFC 4568 §7.1.2), or ErrNoCrypto.
func pickCrypto(md *psdp.MediaDescription) (*crypto, error) {
	cs, lines, why := cryptoLines(md)
	switch {
	case len(cs) > 0:
		return &cs[0], nil
	case lines == 0:
		return nil, fmt.Errorf("%w: %s offered without a=crypto", ErrNoCrypto, clean(profile(md.MediaName)))
	}
	return nil, fmt.Errorf("%w: %w", ErrNoCrypto, why)
}

// matchAnswer finds the a=crypto of an answer that takes up one of our
// offered lines, same tag and suite (RFC 4568 §7.1.3): it returns our line
// and the peer's key, or nil for a plain answer that our offer allows.
func matchAnswer(md *psdp.MediaDescription, o *offered) (*crypto, Key, error) {
	p := profile(md.MediaName)
	if len(o.crypto) == 0 {
		if isSecure(p) {
			return nil, nil, fmt.Errorf("%w: answer uses %s to a plain RTP offer", ErrUnsupportedProfile, p)
		}
		return nil, nil, nil // a=crypto in an answer to a plain offer means nothing
	}
	cs, lines, why := cryptoLines(md)
	for _, c := range cs {
		for i := range o.crypto {
			if o.crypto[i].tag != c.tag || o.crypto[i].suite.name != c.suite.name {
				continue
			}
			if sameKey(o.crypto[i].key, c.key) {
				return nil, nil, fmt.Errorf("%w: the answer's a=crypto:%d carries our own key", ErrNoCrypto, c.tag)
			}
			return &o.crypto[i], c.key, nil
		}
	}
	switch {
	case len(cs) > 0:
		return nil, nil, fmt.Errorf("%w: the answer's a=crypto:%d %s matches no line of our offer",
			ErrNoCrypto, cs[0].tag, cs[0].suite.name)
	case lines > 0:
		return nil, nil, fmt.Errorf("%w: %w", ErrNoCrypto, why)
	case o.srtp == SRTPRequired || isSecure(p):
		return nil, nil, fmt.Errorf("%w: the answer has no a=crypto (%s)", ErrNoCrypto, p)
	}
	return nil, nil, nil
}
