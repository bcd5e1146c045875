package sdp

import "strings"

// Real-world SDP bodies, as the peers named send them (addresses changed to
// documentation ranges where they were private). crlf converts the "\n" of
// these raw strings into the CRLF of the wire.

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// baresip 3.x offer with its default audio modules (opus, G.722, G.711) and
// video enabled, advertising the eth0 address.
var baresipOffer = crlf(`v=0
o=- 1373452862 2930597934 IN IP4 192.168.1.23
s=-
c=IN IP4 192.168.1.23
t=0 0
m=audio 10028 RTP/AVP 96 9 0 8 101
b=AS:106
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=ssrc:1633939862 cname:d8e4f1ab-8f2b-4c3a-9e6e-3c7a2b1f0d11
a=rtcp-rsize
a=ptime:20
m=video 10030 RTP/AVP 100
b=AS:1000
a=rtpmap:100 H264/90000
a=fmtp:100 packetization-mode=0
a=sendrecv
a=label:2
`)

// baresip configured with PCMA first and telephone-event on PT 102.
var baresipPCMAOffer = crlf(`v=0
o=- 2890844526 2890844526 IN IP4 203.0.113.9
s=-
c=IN IP4 203.0.113.9
t=0 0
m=audio 10000 RTP/AVP 8 0 102
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:102 telephone-event/8000
a=fmtp:102 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ptime:20
`)

// linphone 5: static G.711 without rtpmap, telephone-event at three rates
// (the 8 kHz one on PT 100), a=rtcp on a port that is not RTP+1, rtcp-fb.
var linphoneOffer = crlf(`v=0
o=alice 3220 1587 IN IP4 192.0.2.12
s=Talk
c=IN IP4 192.0.2.12
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
a=record:off
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp:7082
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
`)

// linphone with AVPF and video on: two m= lines, RTP/AVPF profile.
var linphoneAVPFVideoOffer = crlf(`v=0
o=bob 1017 2231 IN IP4 192.0.2.13
s=Talk
c=IN IP4 192.0.2.13
t=0 0
m=audio 7078 RTP/AVPF 0 8 101
a=rtpmap:101 telephone-event/8000
a=rtcp:7079 IN IP4 192.0.2.13
a=rtcp-fb:* trr-int 5000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVPF 96
a=rtpmap:96 VP8/90000
a=rtcp-fb:* trr-int 5000
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
`)

// sipp's built-in uac scenario.
var sippPCMUOffer = crlf(`v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`)

// sipp's built-in uac_pcap scenario.
var sippPCMAOffer = crlf(`v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
`)

// Asterisk putting us on hold (RFC 3264 §8.4 style).
var asteriskHoldOffer = crlf(`v=0
o=- 1234 1236 IN IP4 198.51.100.2
s=Asterisk
c=IN IP4 198.51.100.2
t=0 0
m=audio 12000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendonly
`)

var inactiveOffer = crlf(`v=0
o=- 1234 1237 IN IP4 198.51.100.2
s=Asterisk
c=IN IP4 198.51.100.2
t=0 0
m=audio 12000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=inactive
`)

// RFC 2543 hold: connection address 0.0.0.0, no direction attribute.
var zeroAddrHoldOffer = crlf(`v=0
o=CiscoSystemsSIP-GW-UserAgent 1799 2 IN IP4 198.51.100.3
s=SIP Call
c=IN IP4 0.0.0.0
t=0 0
m=audio 18456 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:30
`)

var noCommonCodecOffer = crlf(`v=0
o=- 42 42 IN IP4 192.0.2.77
s=-
c=IN IP4 192.0.2.77
t=0 0
m=audio 5004 RTP/AVP 111 9 18 101
a=rtpmap:111 opus/48000/2
a=rtpmap:9 G722/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/48000
`)

var portZeroOffer = crlf(`v=0
o=- 42 43 IN IP4 192.0.2.77
s=-
c=IN IP4 192.0.2.77
t=0 0
m=audio 0 RTP/AVP 0 8
`)

var ipv6Offer = crlf(`v=0
o=- 1 1 IN IP6 2001:db8::10
s=-
c=IN IP6 2001:db8::10
t=0 0
m=audio 20000 RTP/AVP 8 0 101
a=rtpmap:101 telephone-event/8000
`)

// Session-level c= (an RFC 2543 hold address, even) overridden at media level.
var mediaLevelConnOffer = crlf(`v=0
o=- 7 7 IN IP4 192.0.2.1
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 30000 RTP/AVP 0
c=IN IP4 198.51.100.7
a=sendrecv
`)

// Only a media-level c=, direction at session level.
var sessionDirOffer = crlf(`v=0
o=- 7 8 IN IP4 192.0.2.1
s=-
t=0 0
a=sendonly
m=audio 30000 RTP/AVP 0
c=IN IP4 198.51.100.7
`)

var noConnOffer = crlf(`v=0
o=- 7 7 IN IP4 192.0.2.1
s=-
t=0 0
m=audio 30000 RTP/AVP 0
`)

// SDES-SRTP only: we do not do SRTP.
var srtpOffer = crlf(`v=0
o=- 9 9 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 40000 RTP/SAVP 0 8
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
`)

// "Best effort SRTP" as some desk phones do it: a SAVP line, then an AVP one.
var bestEffortSRTPOffer = crlf(`v=0
o=- 9 10 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 40000 RTP/SAVP 0 8
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
m=audio 40002 RTP/AVP 8 0
`)

// PCMU on a dynamic payload type, lower-case name.
var dynamicPCMUOffer = crlf(`v=0
o=- 9 9 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 40000 RTP/AVP 96 97
a=rtpmap:96 pcmu/8000
a=rtpmap:97 PCMA/16000
`)

// LF line ends and no final newline.
var bareLFOffer = "v=0\no=- 1 1 IN IP4 192.0.2.8\ns=-\nc=IN IP4 192.0.2.8\nt=0 0\nm=audio 8000 RTP/AVP 8"
