package sdp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	psdp "github.com/pion/sdp/v3"

	"github.com/opdesk/opdesk/audio"
)

// Session is our side of the SDP of one dialog. It keeps what RFC 3264 §8
// requires to stay stable across offers and answers: the o= line (user,
// session id, address) and the m= line layout, and it versions our SDP.
//
// The methods are safe for concurrent use, but offer/answer is a strict
// sequence per dialog (RFC 3261 §13.2.1): the caller must not start an offer
// while one is outstanding.
type Session struct {
	mu      sync.Mutex
	user    string
	id      uint64
	version uint64
	origin  netip.Addr // o= address, fixed by our first SDP

	last  []byte           // our last SDP, to tell whether the next one changed
	slots []psdp.MediaName // m= lines of our last SDP
	audio int              // index of our audio stream in slots
	offer *offered         // our outstanding offer, for ParseAnswer
	keys  keyring          // our SRTP keys (crypto_session.go)
}

// offered is what ParseAnswer needs to know of our last offer.
type offered struct {
	codecs []audio.Codec
	dtmf   bool
	dir    Direction
	index  int // of the audio m= line
	srtp   SRTPPolicy
	crypto []crypto // our a=crypto lines, with our keys
}

// NewSession returns a Session whose SDP carries username in o= (RFC 4566
// §5.2; "-" if it is empty or has spaces or control characters) and a random
// session id.
func NewSession(username string) *Session {
	if username == "" || clean(username) != username || strings.Contains(username, " ") {
		username = "-"
	}
	// RFC 3264 §5: the id and version must fit a signed 64-bit integer and the
	// version must start below 2**62-1; keeping both under 2**31 also suits
	// stacks that parse them as 32-bit numbers.
	id := rand.Uint64N(1<<31-1) + 1
	return &Session{user: username, id: id, version: id}
}

// Offer returns an SDP offer (RFC 3264 §5) for one audio stream described by
// l: our codecs in preference order plus telephone-event on PT 101 if
// l.DTMF. A re-offer keeps the m= lines of the previous SDP, with the ones we
// rejected at port 0 (RFC 3264 §8). The o= version is bumped only if the SDP
// differs from the last one this Session produced, so re-sending the same
// Local for a session refresh (RFC 4028) gives identical bytes.
//
// Unless l.SRTP is SRTPOff the audio line carries a=crypto: one per suite
// we offer (AEAD_AES_128_GCM tag 1, AES_CM_128_HMAC_SHA1_80 tag 2) over
// RTP/SAVP (SRTPRequired) or RTP/AVP (SRTPOptional). While SRTP is in use a
// re-offer carries only the suite, tag and key in use (RFC 4568 §7.1.4), so
// that a hold or a refresh keeps the crypto contexts.
//
// The offer stays outstanding for ParseAnswer until the next Offer or Answer.
func (s *Session) Offer(l Local) ([]byte, error) {
	ll, err := l.validate()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	protos := ll.srtp.offerProtos()
	index := 0
	if len(s.slots) > 0 {
		index = s.audio
		if ll.srtp.allows(profile(s.slots[index])) {
			protos = s.slots[index].Protos
		}
	}
	var cs []crypto
	if ll.srtp != SRTPOff {
		if cs, err = s.keys.offerLines(); err != nil {
			return nil, err
		}
	}
	fs := make([]format, 0, len(ll.codecs))
	for _, c := range ll.codecs {
		fs = append(fs, format{pt: c.PayloadType(), name: c.Name(), clock: audio.SampleRate})
	}
	ours := audioLine(ll, protos, fs, ll.dtmf, dtmfPT, ll.dir, cs)

	mds := []*psdp.MediaDescription{ours}
	if len(s.slots) > 0 {
		mds = make([]*psdp.MediaDescription, len(s.slots))
		for i, mn := range s.slots {
			if i == index {
				mds[i] = ours
			} else {
				mds[i] = &psdp.MediaDescription{MediaName: mn}
			}
		}
	}
	out, err := s.emit(ll.ip, mds, index)
	if err != nil {
		return nil, err
	}
	s.offer = &offered{codecs: ll.codecs, dtmf: ll.dtmf, dir: ll.dir, index: index, srtp: ll.srtp, crypto: cs}
	return out, nil
}

// Answer answers a peer's offer (RFC 3264 §6) with our audio stream set up
// from l, and returns the negotiated Media.
//
// The first audio m= line we can use is taken: not port 0, RTP/AVP or
// RTP/AVPF (or RTP/SAVP and RTP/SAVPF unless l.SRTP is SRTPOff), listing one
// of l.Codecs (by rtpmap name or static payload type) and, for an SRTP
// profile or under SRTPRequired, an a=crypto we can use. Our codec is the
// first of l.Codecs it lists, on the offerer's payload type;
// telephone-event/8000 is accepted on the offerer's payload type if l.DTMF.
// Our direction is the reverse of the offer's intersected with l.Direction,
// so a hold offer (sendonly) is answered recvonly, or inactive if we hold
// too. Every other m= line is answered with port 0.
//
// SRTP (unless l.SRTP is SRTPOff): the first a=crypto of the line whose
// suite and parameters we support is answered with the same tag and suite
// and our own key (RFC 4568 §7.1.2), and Media.SRTP is set. An offer with
// a=crypto on RTP/AVP is answered in kind; under SRTPOptional a line with
// no usable a=crypto is answered with plain RTP.
//
// Errors: ErrMalformed (answer 400), ErrNoCommonCodec, ErrNoCrypto and
// ErrUnsupportedProfile (answer 488), ErrInvalidLocal. With ErrStreamRejected
// (every audio line at port 0) the returned answer is valid and should be
// sent; the Media then has no address and direction Inactive.
func (s *Session) Answer(offer []byte, l Local) (answer []byte, m Media, err error) {
	ll, err := l.validate()
	if err != nil {
		return nil, Media{}, err
	}
	d, err := parse(offer)
	if err != nil {
		return nil, Media{}, err
	}
	index, m, ch, err := negotiate(d, ll)
	if err != nil && index < 0 {
		return nil, Media{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var ours *crypto
	if ch.crypto != nil {
		key, kerr := s.keys.keyFor(ch.crypto.suite)
		if kerr == nil && sameKey(key, ch.crypto.key) {
			kerr = fmt.Errorf("%w: the offer's a=crypto:%d carries our own key", ErrNoCrypto, ch.crypto.tag)
		}
		if kerr != nil {
			return nil, Media{}, kerr
		}
		ours = &crypto{tag: ch.crypto.tag, suite: ch.crypto.suite, key: key}
		m.SRTP = &SRTP{Suite: ours.suite.name, Local: key, Remote: ch.crypto.key}
	}
	mds := make([]*psdp.MediaDescription, len(d.MediaDescriptions))
	for i, md := range d.MediaDescriptions {
		if i == index && err == nil {
			var cs []crypto
			if ours != nil {
				cs = []crypto{*ours}
			}
			mds[i] = audioLine(ll, md.MediaName.Protos, []format{ch.codec}, ch.dtmf, ch.dtmfPT, m.Direction, cs)
		} else {
			mds[i] = &psdp.MediaDescription{MediaName: rejected(md.MediaName)}
		}
	}

	out, emitErr := s.emit(ll.ip, mds, index)
	if emitErr != nil {
		return nil, Media{}, emitErr
	}
	s.offer = nil
	s.keys.settle(ours)
	return out, m, err
}

// ParseAnswer reads the peer's answer to our outstanding offer (RFC 3264 §7)
// and returns the negotiated Media. The codec is the first format of the
// answer that we offered; PayloadType and DTMFPayloadType are the answer's
// (the ones the peer expects). Our direction is what we offered intersected
// with the reverse of the answer's. Media.SRTP is set when the answer takes
// up one of our a=crypto lines (same tag and suite, RFC 4568 §7.1.3).
//
// Errors: ErrNoOffer, ErrMalformed, ErrStreamRejected (the peer set our audio
// line to port 0), ErrNoCommonCodec (the answer holds nothing we offered),
// ErrUnsupportedProfile, ErrNoCrypto (SRTP is required and the answer is
// plain, or its a=crypto matches none of ours).
func (s *Session) ParseAnswer(answer []byte) (Media, error) {
	s.mu.Lock()
	o := s.offer
	s.mu.Unlock()
	if o == nil {
		return Media{}, ErrNoOffer
	}
	d, err := parse(answer)
	if err != nil {
		return Media{}, err
	}
	if len(d.MediaDescriptions) <= o.index {
		return Media{}, fmt.Errorf("%w: answer has %d m= lines, our offer had %d",
			ErrMalformed, len(d.MediaDescriptions), o.index+1)
	}
	md := d.MediaDescriptions[o.index]
	if md.MediaName.Media != "audio" {
		return Media{}, fmt.Errorf("%w: answer has m=%s where we offered m=audio", ErrMalformed, md.MediaName.Media)
	}
	if md.MediaName.Port.Value == 0 {
		return Media{Direction: Inactive, RemoteDirection: Inactive}, ErrStreamRejected
	}
	fs, err := mediaFormats(md)
	if err != nil {
		return Media{}, err
	}
	if p := profile(md.MediaName); !supportedProfile(p) {
		return Media{}, fmt.Errorf("%w: answer uses %s", ErrUnsupportedProfile, clean(p))
	}
	ch, ok := pickAnswered(fs, o)
	if !ok {
		return Media{}, fmt.Errorf("%w: answer lists %s", ErrNoCommonCodec, describe(fs))
	}
	ours, theirs, err := matchAnswer(md, o)
	if err != nil {
		return Media{}, err
	}
	st, err := analyse(d, md)
	if err != nil {
		return Media{}, err
	}
	m := media(st, ch, intersect(o.dir, st.dir.Reverse()))
	if ours != nil {
		m.SRTP = &SRTP{Suite: ours.suite.name, Local: ours.key, Remote: theirs}
	}
	s.mu.Lock()
	s.keys.settle(ours)
	s.mu.Unlock()
	return m, nil
}

// chosen is the outcome of matching formats.
type chosen struct {
	codec  format // named as the audio package names it
	dtmf   bool
	dtmfPT uint8
	crypto *crypto // the peer's a=crypto we take up; nil: plain RTP
}

// negotiate picks the audio m= line of offer d to answer (see Answer). It
// returns the line's index and a nil error, or a negative index and the
// error, or the first audio line's index and ErrStreamRejected.
func negotiate(d *psdp.SessionDescription, ll local) (int, Media, chosen, error) {
	firstAudio, noCodec := -1, false
	var offeredFmts []format
	var profiles []string
	var noCrypto error
	for i, md := range d.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		if firstAudio < 0 {
			firstAudio = i
		}
		if md.MediaName.Port.Value == 0 {
			continue
		}
		p := profile(md.MediaName)
		if !isRTP(p) {
			profiles = append(profiles, p)
			continue
		}
		fs, err := mediaFormats(md)
		if err != nil {
			return -1, Media{}, chosen{}, err
		}
		if !supportedProfile(p) || isSecure(p) && ll.srtp == SRTPOff {
			profiles = append(profiles, p)
			continue
		}
		ch, ok := pick(fs, ll)
		if !ok {
			noCodec = true
			offeredFmts = append(offeredFmts, fs...)
			continue
		}
		if ll.srtp != SRTPOff {
			c, err := pickCrypto(md)
			if err != nil && (isSecure(p) || ll.srtp == SRTPRequired) {
				noCrypto = err
				continue
			}
			ch.crypto = c
		}
		st, err := analyse(d, md)
		if err != nil {
			return -1, Media{}, chosen{}, err
		}
		return i, media(st, ch, intersect(ll.dir, st.dir.Reverse())), ch, nil
	}
	switch {
	case firstAudio < 0:
		return -1, Media{}, chosen{}, fmt.Errorf("%w: no m=audio line", ErrMalformed)
	case noCrypto != nil:
		return -1, Media{}, chosen{}, noCrypto
	case noCodec:
		return -1, Media{}, chosen{}, fmt.Errorf("%w: offered %s", ErrNoCommonCodec, describe(offeredFmts))
	case len(profiles) > 0:
		return -1, Media{}, chosen{}, fmt.Errorf("%w: audio offered over %s", ErrUnsupportedProfile, clean(profiles[0]))
	}
	return firstAudio, Media{Direction: Inactive, RemoteDirection: Inactive}, chosen{}, ErrStreamRejected
}

// pick chooses the first of our codecs that fs lists, and telephone-event.
func pick(fs []format, ll local) (chosen, bool) {
	var ch chosen
	for _, c := range ll.codecs {
		for _, f := range fs {
			if f.is(c.Name()) {
				ch.codec = format{pt: f.pt, name: c.Name(), clock: audio.SampleRate}
				if ll.dtmf {
					ch.dtmfPT, ch.dtmf = findDTMF(fs)
				}
				return ch, true
			}
		}
	}
	return chosen{}, false
}

// pickAnswered chooses the first format of an answer that we offered
// (the answerer's preference, RFC 3264 §6.1), and telephone-event if we
// offered it.
func pickAnswered(fs []format, o *offered) (chosen, bool) {
	for _, f := range fs {
		for _, c := range o.codecs {
			if f.is(c.Name()) {
				ch := chosen{codec: format{pt: f.pt, name: c.Name(), clock: audio.SampleRate}}
				if o.dtmf {
					ch.dtmfPT, ch.dtmf = findDTMF(fs)
				}
				return ch, true
			}
		}
	}
	return chosen{}, false
}

// findDTMF returns the payload type of telephone-event/8000 in fs. Other
// clock rates (telephone-event/48000 next to opus) do not go with G.711.
func findDTMF(fs []format) (uint8, bool) {
	for _, f := range fs {
		if f.is(dtmfName) {
			return f.pt, true
		}
	}
	return 0, false
}

func media(st stream, ch chosen, dir Direction) Media {
	return Media{
		IP:              st.ip.String(),
		Port:            st.port,
		RTCPPort:        st.rtcpPort,
		Codec:           ch.codec.name,
		PayloadType:     ch.codec.pt,
		DTMFPayloadType: ch.dtmfPT,
		HasDTMF:         ch.dtmf,
		Ptime:           st.ptime,
		Direction:       dir,
		RemoteDirection: st.dir,
	}
}

// audioLine builds our m=audio line with its attributes.
func audioLine(ll local, protos []string, fs []format, dtmf bool, dpt uint8, dir Direction, cs []crypto) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media:  "audio",
		Port:   psdp.RangedPort{Value: ll.port},
		Protos: protos,
	}}
	for _, f := range fs {
		pt := strconv.Itoa(int(f.pt))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md = md.WithValueAttribute("rtpmap", pt+" "+f.name+"/"+strconv.Itoa(audio.SampleRate))
	}
	if dtmf {
		pt := strconv.Itoa(int(dpt))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md = md.WithValueAttribute("rtpmap", pt+" "+dtmfName+"/"+strconv.Itoa(audio.SampleRate)).
			WithValueAttribute("fmtp", pt+" "+dtmfEvents)
	}
	for _, c := range cs {
		md = md.WithValueAttribute("crypto", cryptoValue(c.tag, c.suite.name, c.key))
	}
	return md.WithValueAttribute("ptime", strconv.Itoa(defaultPtime)).
		WithPropertyAttribute(dir.String())
}

// rejected returns the m= line that rejects an offered one: same media and
// profile, port 0 (RFC 3264 §6). The formats are echoed when they are sane
// tokens; at least one is required by the grammar.
func rejected(mn psdp.MediaName) psdp.MediaName {
	out := psdp.MediaName{Media: mn.Media, Protos: mn.Protos}
	for _, f := range mn.Formats {
		if len(out.Formats) < 32 && len(f) <= 32 && clean(f) == f {
			out.Formats = append(out.Formats, f)
		}
	}
	if len(out.Formats) == 0 {
		out.Formats = []string{"0"}
	}
	return out
}

// emit marshals our SDP around mds, with index the audio line, and records it
// as the Session's last SDP. s.mu must be held.
func (s *Session) emit(ip netip.Addr, mds []*psdp.MediaDescription, index int) ([]byte, error) {
	if !s.origin.IsValid() {
		s.origin = ip
	}
	d := psdp.SessionDescription{
		Origin: psdp.Origin{
			Username:       s.user,
			SessionID:      s.id,
			SessionVersion: s.version,
			NetworkType:    "IN",
			AddressType:    addrType(s.origin),
			UnicastAddress: s.origin.String(),
		},
		SessionName: "opdesk",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType(ip),
			Address:     &psdp.Address{Address: ip.String()},
		},
		TimeDescriptions:  []psdp.TimeDescription{{}},
		MediaDescriptions: mds,
	}
	out, err := d.Marshal()
	if err == nil && s.last != nil && !bytes.Equal(out, s.last) {
		// RFC 3264 §8: a changed SDP increments the version by exactly one.
		s.version++
		d.Origin.SessionVersion = s.version
		out, err = d.Marshal()
	}
	if err != nil {
		return nil, fmt.Errorf("sdp: marshal: %w", err)
	}
	s.last = out
	s.slots = make([]psdp.MediaName, len(mds))
	for i, md := range mds {
		s.slots[i] = md.MediaName
		if i != index {
			s.slots[i].Port = psdp.RangedPort{}
		}
	}
	s.audio = index
	return bytes.Clone(out), nil
}

func addrType(ip netip.Addr) string {
	if ip.Is4() {
		return "IP4"
	}
	return "IP6"
}
