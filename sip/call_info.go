package sip

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// info is a snapshot of the call for Status.
func (c *call) info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := CallInfo{
		ID:         c.id,
		SIPCallID:  c.callID,
		State:      c.state.String(),
		Direction:  c.dir.String(),
		Remote:     c.remote.String(),
		RemoteName: c.remoteName,
		Held:       c.held,
		RemoteHeld: c.remoteHeld,
	}
	if c.hasNeg {
		ci.Codec, ci.SRTP = c.neg.Codec, srtpSuite(c.neg.SRTP)
	}
	if c.rec != nil {
		ci.Recording = c.rec.path
	}
	switch {
	case c.mon != nil:
		ci.Monitor = c.mon.info(true)
	case c.watched != nil:
		ci.Monitor = c.watched.info(false)
	case c.svMode != "":
		ci.Monitor = &MonitorInfo{Mode: c.svMode, IsSession: true}
	}
	if !c.answeredAt.IsZero() {
		ci.Duration = time.Since(c.answeredAt).Round(time.Millisecond)
		ci.DurationSec = ci.Duration.Seconds()
	}
	if c.mediaStarted {
		st := c.stream.Stats()
		mi := &MediaInfo{
			Local:           fmt.Sprintf("%s:%d", c.p.rtpIP, c.stream.LocalPort()),
			PacketsSent:     st.PacketsSent,
			PacketsReceived: st.PacketsReceived,
			Lost:            st.Lost,
			JitterMs:        st.JitterMs,

			RTCPSent:           st.RTCPSent,
			RTCPReceived:       st.RTCPReceived,
			RemoteLossFraction: st.RemoteLossFraction,
			RemoteJitterMs:     st.RemoteJitterMs,
			RTTMs:              st.RTTMs,
			SRTPAuthFailures:   st.SRTPAuthFailures,
		}
		if c.hasNeg {
			if a := c.neg.Addr(); a != nil {
				mi.Remote = a.String()
			}
			mi.LocalDirection = c.neg.Direction.String()
			mi.RemoteDirection = c.neg.RemoteDirection.String()
		}
		if st.Latched != "" {
			mi.Remote = st.Latched
		}
		ci.Media = mi
	}
	return ci
}

func sortCalls(cs []CallInfo) {
	sort.Slice(cs, func(i, j int) bool {
		a, _ := strconv.Atoi(cs[i].ID)
		b, _ := strconv.Atoi(cs[j].ID)
		return a < b
	})
}
