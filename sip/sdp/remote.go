package sdp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// maxSize bounds the SDP we parse. A SIP body over UDP cannot be larger and
// an SDP for one call is a few hundred bytes; the bound keeps a hostile peer
// on TCP from making us build a huge answer.
const maxSize = 64 << 10

// parse unmarshals a peer's SDP, wrapping every failure in ErrMalformed.
func parse(b []byte) (*psdp.SessionDescription, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(b) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), maxSize)
	}
	s := string(b)
	// pion needs the last line terminated; a body cut right after the last
	// attribute (no final CRLF) is common enough to forgive.
	if s[len(s)-1] != '\n' {
		s += "\r\n"
	}
	var d psdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, clean(strings.TrimPrefix(err.Error(), "sdp: ")))
	}
	return &d, nil
}

// stream is the transport side of one of the peer's audio m= lines.
type stream struct {
	ip       netip.Addr
	port     int
	rtcpPort int
	ptime    int
	dir      Direction // as declared, with c=0.0.0.0 folded in
}

// analyse reads where and how the peer wants the media of md.
//
// RFC 4566 §5.7: a media-level c= overrides the session-level one, and one of
// them must be there. RFC 3264 §8.4: an unspecified address (c=0.0.0.0, or ::)
// means the peer wants neither RTP nor RTCP, so it is taken as not
// receiving, whatever the direction attribute says. RFC 3264 §6.1: a
// direction attribute at media level overrides one at session level, and
// sendrecv is the default.
func analyse(d *psdp.SessionDescription, md *psdp.MediaDescription) (stream, error) {
	conn := md.ConnectionInformation
	if conn == nil || conn.Address == nil {
		conn = d.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return stream{}, fmt.Errorf("%w: no c= line for m=audio", ErrMalformed)
	}
	ip, err := netip.ParseAddr(conn.Address.Address)
	if err != nil || ip.Zone() != "" {
		return stream{}, fmt.Errorf("%w: connection address %q is not an IP literal",
			ErrMalformed, clean(conn.Address.Address))
	}
	st := stream{ip: ip.Unmap(), port: md.MediaName.Port.Value, ptime: defaultPtime, dir: SendRecv}
	if st.port < 1 || st.port > 65535 {
		return stream{}, fmt.Errorf("%w: port %d out of range", ErrMalformed, st.port)
	}

	st.rtcpPort = st.port + 1
	if v, ok := md.Attribute("rtcp"); ok {
		// RFC 3605 §2.1: a=rtcp:<port> [<nettype> <addrtype> <address>]
		field, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if p, err := strconv.Atoi(field); err == nil && p > 0 && p <= 65535 {
			st.rtcpPort = p
		}
	}
	if st.rtcpPort > 65535 {
		st.rtcpPort = 0
	}

	if v, ok := attr(d, md, "ptime"); ok {
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p >= 10 && p <= 200 {
			st.ptime = p
		}
	}

	if dir, ok := directionAttr(md.Attributes); ok {
		st.dir = dir
	} else if dir, ok := directionAttr(d.Attributes); ok {
		st.dir = dir
	}
	if st.ip.IsUnspecified() {
		st.dir = direction(st.dir.Sends(), false)
	}
	return st, nil
}

// attr returns a media-level attribute, or else the session-level one.
func attr(d *psdp.SessionDescription, md *psdp.MediaDescription, key string) (string, bool) {
	if v, ok := md.Attribute(key); ok {
		return v, true
	}
	return d.Attribute(key)
}

// directionAttr returns the first direction attribute in as.
func directionAttr(as []psdp.Attribute) (Direction, bool) {
	for _, a := range as {
		if dir, ok := parseDirection(a.Key); ok {
			return dir, true
		}
	}
	return 0, false
}

// profile returns the transport profile of an m= line ("RTP/AVP").
func profile(mn psdp.MediaName) string { return strings.Join(mn.Protos, "/") }

// supportedProfile reports whether we can answer an m= line with profile p
// (given a=crypto for the SRTP ones, see SRTPPolicy). RTP/AVPF (RFC 4585)
// differs from RTP/AVP only in RTCP feedback, which we neither send nor
// need, so it is accepted and echoed; RTP/SAVPF likewise.
func supportedProfile(p string) bool {
	return p == "RTP/AVP" || p == "RTP/AVPF" || isSecure(p)
}

// isRTP reports whether profile p carries RTP, whose formats are payload
// types (RFC 4566 §5.14).
func isRTP(p string) bool { return strings.Contains(p, "RTP/") }
