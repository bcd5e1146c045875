package sip

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip/media"
	"github.com/opdesk/opdesk/sip/sdp"
)

// allowMethods is what opdesk answers to in a dialog and to OPTIONS.
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO"

// call is one dialog with its media. Fields below mu are guarded by it.
type call struct {
	p      *Phone
	id     string
	dir    Direction
	callID string // SIP Call-ID, set once the INVITE exists
	stream *media.Stream
	sess   *sdp.Session
	src    audio.Source
	sink   audio.Sink

	answerCh chan struct{} // inbound: the operator answered
	rejectCh chan int      // inbound: the operator rejected with a code
	answered chan struct{} // closed when the call is answered
	done     chan struct{} // closed when the call has ended

	ringTimeout time.Duration // outbound: set before the INVITE goes out
	rang        atomic.Bool   // outbound: a 180 or 183 came (see onWire)
	grant       bool          // outbound: the INVITE carries a monitor grant

	// mon, set at creation, makes the call mon's monitor session (agent's
	// side); taps are where a session taps into this call (zero for a
	// session). See monitor.go.
	mon  *monitor
	taps callTaps

	mu           sync.Mutex
	state        CallState
	remote       gsip.Uri
	remoteName   string
	created      time.Time
	answeredAt   time.Time
	held         bool // by us
	remoteHeld   bool
	neg          sdp.Media
	hasNeg       bool
	mediaStarted bool
	uac          *sipgo.DialogClientSession
	uas          *sipgo.DialogServerSession
	cancelDial   context.CancelCauseFunc
	transfer     *transferState
	remoteCSeq   uint32 // last CSeq of a request from the other side (UAC dialogs)
	endCause     string
	endCode      int
	endOnce      sync.Once
	rec          *recording
	tone         *tonePlayer // ringback or ringer while it sounds
	srcRaw       audio.Source
	sinkRaw      audio.Sink
	watched      *monitor // the monitor session on this call, if any
	svMode       string   // supervisor's side: the mode the agent's phone applied
}

// newCall registers a call with the phone and gives it media resources.
func (p *Phone) newCall(dir Direction, remote gsip.Uri, remoteName string) (*call, error) {
	return p.makeCall(dir, remote, remoteName, nil)
}

// makeCall is newCall; a non-nil mon makes the call mon's monitor session,
// whose ends are mon's rings: it never opens an endpoint or holds the sound
// card.
func (p *Phone) makeCall(dir Direction, remote gsip.Uri, remoteName string, mon *monitor) (*call, error) {
	c := &call{
		mon:        mon,
		p:          p,
		dir:        dir,
		remote:     remote,
		remoteName: Clean(remoteName),
		created:    time.Now(),
		answerCh:   make(chan struct{}, 1),
		rejectCh:   make(chan int, 1),
		answered:   make(chan struct{}),
		done:       make(chan struct{}),
		sess:       sdp.NewSession(p.cfg.User),
	}
	if dir == Inbound {
		c.state = StateIncoming
	}
	var err error
	c.stream, err = media.Listen(p.rtpIP,
		media.WithPortRange(p.cfg.RTPPortMin, p.cfg.RTPPortMax),
		media.WithLogger(p.log),
		media.WithDTMFHandler(c.onDTMF),
		media.WithJitterBuffer(p.cfg.Jitter))
	if err != nil {
		return nil, fmt.Errorf("no RTP port free on %s: %w", p.rtpIP, err)
	}
	if mon != nil {
		mon.session = c
		c.src = &monitorSource{au: mon.au, scratch: make([]int16, audio.FrameSamples)}
		c.sink = &monitorSink{au: mon.au}
	} else if err := c.openEnds(dir, remote); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.nextCallID++
	c.id = strconv.Itoa(p.nextCallID)
	p.calls[c.id] = c
	p.mu.Unlock()
	return c, nil
}

// openEnds opens a call's input and output, wraps them (meters, feedback,
// beep, monitor taps) and holds the sound card for the call.
func (c *call) openEnds(dir Direction, remote gsip.Uri) error {
	p := c.p
	var err error
	if c.src, err = p.openSource(dir, remote); err != nil {
		c.stream.Close()
		return fmt.Errorf("audio input: %w", err)
	}
	if c.sink, err = p.openSink(); err != nil {
		closeIf(c.src)
		c.stream.Close()
		return fmt.Errorf("audio output: %w", err)
	}
	c.wrapAudio()
	p.holdCards()
	return nil
}

// openSource opens a call's input: Config.SourceFor's, the shared sound
// card (not closable by the call: SourceFunc hides its Close) or a per-call
// endpoint.
func (p *Phone) openSource(dir Direction, remote gsip.Uri) (audio.Source, error) {
	if p.cfg.SourceFor != nil {
		src, err := p.cfg.SourceFor(dir, remote.String())
		if err == nil && src == nil {
			err = fmt.Errorf("no audio source for the call to or from %s", remote.String())
		}
		return src, err
	}
	if p.cfg.Device != nil && audio.IsDeviceSpec(p.cfg.Input) {
		return audio.SourceFunc(p.cfg.Device.ReadFrame), nil
	}
	return audio.OpenSource(p.cfg.Input)
}

// openSink is openSource's counterpart for the output.
func (p *Phone) openSink() (audio.Sink, error) {
	if p.cfg.Device != nil && audio.IsDeviceSpec(p.cfg.Output) {
		return audio.SinkFunc(p.cfg.Device.WriteFrame), nil
	}
	if audio.IsFileSpec(p.cfg.Output) {
		// One call at a time writes the file (heldSink).
		if !p.fileOut.CompareAndSwap(false, true) {
			return audio.OpenSink("null")
		}
		s, err := audio.OpenSink(p.cfg.Output)
		if err != nil {
			p.fileOut.Store(false)
			return nil, err
		}
		return &heldSink{Sink: s, held: &p.fileOut}, nil
	}
	return audio.OpenSink(p.cfg.Output)
}

// heldSink is the one call's hold on a file: output. A file sink is
// created anew when opened, so a second call (a scanner's INVITE that only
// rings) would wipe what the live call has received; later calls get the
// null sink while one holds the file.
type heldSink struct {
	audio.Sink
	held *atomic.Bool
}

func (h *heldSink) Close() error {
	defer h.held.Store(false)
	if c, ok := h.Sink.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func closeIf(v any) {
	if cl, ok := v.(io.Closer); ok {
		_ = cl.Close()
	}
}

// bindCallID makes the call findable by its SIP Call-ID.
func (c *call) bindCallID(id string) {
	c.p.mu.Lock()
	c.mu.Lock()
	c.callID = id
	c.mu.Unlock()
	c.p.byCallID[id] = c
	c.p.mu.Unlock()
}

// local is our side of the SDP for the current hold state.
func (c *call) local() sdp.Local {
	c.mu.Lock()
	held := c.held
	c.mu.Unlock()
	dir := sdp.SendRecv
	if held {
		dir = sdp.SendOnly
	}
	return sdp.Local{
		IP:        c.p.rtpIP,
		Port:      c.stream.LocalPort(),
		Codecs:    []string{"PCMU", "PCMA"},
		DTMF:      true,
		Direction: dir,
		SRTP:      c.p.srtpPolicy(),
	}
}

// applyMedia starts or updates RTP for a negotiated description. remoteOffer
// says the description answers the other side's offer: only then does its
// direction say whether the other side put us on hold (an answer to our own
// hold offer is recvonly by design).
func (c *call) applyMedia(m sdp.Media, early, remoteOffer bool) error {
	codec, ok := audio.CodecByName(m.Codec)
	if !ok {
		return fmt.Errorf("negotiated codec %q: %w", m.Codec, ErrNotSupported)
	}
	if err := c.checkSRTP(m); err != nil {
		return err
	}
	c.mu.Lock()
	c.neg, c.hasNeg = m, true
	remoteHeld := c.remoteHeld
	if remoteOffer {
		remoteHeld = !m.RemoteDirection.Receives() || m.Addr() == nil
	}
	changedHold := c.state.established() && remoteHeld != c.remoteHeld
	c.remoteHeld = remoteHeld
	params := media.Params{
		Remote:          m.Addr(),
		Codec:           codec,
		DTMFPayloadType: m.DTMFPayloadType,
		HasDTMF:         m.HasDTMF,
		Send:            m.Direction.Sends() && !early && m.Port != 0 && !c.held, // on hold the customer hears nothing of the operator
		Recv:            m.Direction.Receives(),
		Source:          c.src,
		Sink:            c.sink,
		SRTP:            mediaSRTP(m.SRTP),
	}
	if ra := m.Addr(); ra != nil && m.RTCPPort != 0 {
		a := *ra
		a.Port = m.RTCPPort
		params.RemoteRTCP = &a
	} else if ra == nil {
		params.Send = false // hold with c=0.0.0.0, or a rejected stream
	}
	started := c.mediaStarted
	c.mediaStarted = true
	c.mu.Unlock()
	c.p.log.Debug("media negotiated", "call", c.id, "codec", m.Codec, "srtp", srtpSuite(m.SRTP))
	if c.mon == nil && c.p.isMuted() {
		c.stream.SetMuted(true) // a monitor session is never muted: it is the supervisor's ear
	}
	var err error
	if started {
		err = c.stream.Update(params)
	} else {
		err = c.stream.Start(params)
	}
	if changedHold && c.mon == nil {
		if remoteHeld {
			c.p.publish(c.event(EvRemoteHeld, "the other side put the call on hold"))
		} else {
			c.p.publish(c.event(EvRemoteResumed, "the other side took the call off hold"))
		}
	}
	return err
}

// setState moves the call forward; it refuses to go back (sipgo may deliver
// a 180 after the 200 that followed it).
func (c *call) setState(s CallState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateEnded {
		return false
	}
	if s < c.state && !(s == StateActive && c.state == StateHeld) {
		return false
	}
	if s == StateActive && c.answeredAt.IsZero() {
		c.answeredAt = time.Now()
	}
	c.state = s
	return true
}

// answeredMedia is what happens to media when the call is answered: the
// recording starts under audio.record = always.
func (c *call) answeredMedia() {
	c.stopTone()
	if c.p.cfg.Record == audio.RecordAlways && c.p.cfg.RecordDir != "" {
		_ = c.startRecording() // failure is logged; the call goes on
	}
}

func (c *call) getState() CallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *call) event(t EventType, text string) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Event{Type: t, CallID: c.id, SIPCallID: c.callID, Remote: c.remote.String(),
		RemoteName: c.remoteName, Direction: c.dir.String(), Text: text}
}

// end finishes the call once: media closed, removed from the phone, event out.
func (c *call) end(cause string, code int, text string) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.state = StateEnded
		c.endCause, c.endCode = cause, code
		cancel := c.cancelDial
		c.mu.Unlock()
		if cancel != nil {
			cancel(errCallEnded)
		}
		_ = c.stream.Close()
		if err := c.stopRecording(); err != nil {
			c.p.log.Warn("recording close", "call", c.id, "err", err)
		}
		c.stopTone()
		closeIf(c.srcRaw)
		closeIf(c.sinkRaw)
		if c.mon == nil {
			c.p.releaseCards()
		}
		c.p.mu.Lock()
		delete(c.p.calls, c.id)
		if c.callID != "" && c.p.byCallID[c.callID] == c {
			delete(c.p.byCallID, c.callID)
		}
		c.p.mu.Unlock()
		if c.mon != nil {
			c.mon.ended(cause)
			close(c.done)
			return
		}
		c.endWatch()
		ev := c.event(EvEnded, text)
		ev.Cause, ev.Code = cause, code
		ev.Rang = c.dir == Outbound && c.rang.Load()
		c.p.log.Info("call ended", "call", c.id, "cause", cause, "code", code)
		c.p.publish(ev)
		close(c.done)
	})
}

var errCallEnded = fmt.Errorf("call ended")

func (c *call) onDTMF(d rune) {
	if c.mon != nil {
		return // the supervisor's keys are not the operator's business
	}
	ev := c.event(EvDTMF, "")
	ev.Digit = string(d)
	c.p.publish(ev)
}

// dialog is what in-dialog requests are sent on.
type dialog interface {
	Do(ctx context.Context, req *gsip.Request) (*gsip.Response, error)
	WriteRequest(req *gsip.Request) error
	ReadRequest(req *gsip.Request, tx gsip.ServerTransaction) error
}

func (c *call) dialog() dialog {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uac != nil {
		return c.uac
	}
	if c.uas != nil {
		return c.uas
	}
	return nil
}

// remoteTarget is where in-dialog requests go (the peer's Contact).
func (c *call) remoteTarget() gsip.Uri {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uac != nil && c.uac.InviteResponse != nil {
		if ct := c.uac.InviteResponse.Contact(); ct != nil {
			return *ct.Address.Clone()
		}
	}
	if c.uas != nil {
		if ct := c.uas.InviteRequest.Contact(); ct != nil {
			return *ct.Address.Clone()
		}
	}
	return c.remote
}

// tags returns the local and remote dialog tags.
func (c *call) tags() (local, remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.uac != nil && c.uac.InviteResponse != nil:
		local, _ = c.uac.InviteRequest.From().Params.Get("tag")
		remote, _ = c.uac.InviteResponse.To().Params.Get("tag")
	case c.uas != nil:
		remote, _ = c.uas.InviteRequest.From().Params.Get("tag")
		local, _ = c.uas.InviteRequest.To().Params.Get("tag")
	}
	return local, remote
}

func (p *Phone) isMuted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.muted
}

// find returns the call with id, or the only call that fits when id is "";
// a monitor session is only ever found by its id.
func (p *Phone) find(id string, fits func(CallState) bool) (*call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != "" {
		c, ok := p.calls[id]
		if !ok {
			return nil, fmt.Errorf("call %s: %w", id, ErrNoSuchCall)
		}
		return c, nil
	}
	var found *call
	for _, c := range p.calls {
		if c.mon != nil || fits != nil && !fits(c.getState()) {
			continue
		}
		if found != nil {
			return nil, ErrAmbiguous
		}
		found = c
	}
	if found == nil {
		return nil, ErrNoCall
	}
	return found, nil
}

func (p *Phone) callBySIPID(id string) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byCallID[id]
}
