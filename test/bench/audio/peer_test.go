package audiobench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip/media"
	"github.com/opdesk/opdesk/sip/sdp"
	"github.com/opdesk/opdesk/test/peers"
)

// Click shape: clickLen samples of a clickHz sine at clickAmp, starting at
// its crest so that the onset is one sample sharp, placed clickOffset
// samples into its frame.
const (
	clickLen    = 40 // 5 ms
	clickHz     = 1000
	clickAmp    = 20000
	clickOffset = 60
	frameDur    = audio.FrameDuration
	sampleDur   = time.Second / audio.SampleRate
)

// clickPeer is the measuring end of every call (see the package doc for
// why it is not a sip.Phone). It makes one call at a time.
type clickPeer struct {
	t    testing.TB
	ua   *sipgo.UserAgent
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	host string
	port int

	mu  sync.Mutex
	cur *peerCall
}

// startPeer binds the peer's SIP socket on the loopback and serves the few
// requests a callee may send it (ACK, BYE, a re-INVITE, OPTIONS).
func startPeer(t testing.TB) *clickPeer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", peers.Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	p := &clickPeer{t: t, host: peers.Host, port: conn.LocalAddr().(*net.UDPAddr).Port}
	if p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("audiobench"), sipgo.WithUserAgentHostname(p.host)); err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(p.ua)
	if err != nil {
		t.Fatal(err)
	}
	ok := func(req *gsip.Request, tx gsip.ServerTransaction) {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	srv.OnBye(ok)
	srv.OnOptions(ok)
	srv.OnAck(func(*gsip.Request, gsip.ServerTransaction) {})
	srv.OnInvite(p.onReInvite)
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); _ = p.ua.Close() })
	// Requests must leave from the listening socket, so wait until sipgo
	// has pooled it (as sip.Phone does).
	for range 200 {
		if c, _ := p.ua.TransportLayer().GetConnection("udp", addr); c != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cli, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname(p.host), sipgo.WithClientPort(p.port),
		sipgo.WithClientConnectionAddr(addr))
	if err != nil {
		t.Fatal(err)
	}
	p.dua = &sipgo.DialogUA{Client: p.cli, ContactHDR: gsip.ContactHeader{
		Address: gsip.Uri{Scheme: "sip", User: "bench", Host: p.host, Port: p.port}}}
	return p
}

// onReInvite answers an in-dialog INVITE with the same media; a new call
// is refused (the peer only calls out).
func (p *clickPeer) onReInvite(req *gsip.Request, tx gsip.ServerTransaction) {
	p.mu.Lock()
	c := p.cur
	p.mu.Unlock()
	if to := req.To(); c == nil || to == nil || !to.Params.Has("tag") {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		return
	}
	body, _, err := c.sess.Answer(req.Body(), c.local)
	if err != nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	res := gsip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(gsip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&p.dua.ContactHDR)
	_ = tx.Respond(res)
}

// peerCall is one call of the peer with its clicker and detector.
type peerCall struct {
	dlg      *sipgo.DialogClientSession
	sess     *sdp.Session
	local    sdp.Local
	stream   *media.Stream
	src      *clicker
	det      *detector
	answered time.Time
}

// clickPlan says when the clicks go: the first one First after the answer,
// then one every Period for For.
type clickPlan struct {
	First, Period, For time.Duration
}

// call sends an INVITE for target (a SIP URI; through proxy as a loose
// route when proxy is not ""), runs answer (the DUT's answer button; nil
// for a DUT that answers by itself) and starts the media once the call is
// answered, clicking as plan says.
func (p *clickPeer) call(ctx context.Context, target, proxy string, answer func(context.Context) error,
	plan clickPlan) (*peerCall, error) {
	var uri gsip.Uri
	if err := gsip.ParseUri(target, &uri); err != nil {
		return nil, fmt.Errorf("target %q: %w", target, err)
	}
	stream, err := media.Listen(p.host)
	if err != nil {
		return nil, err
	}
	c := &peerCall{sess: sdp.NewSession("bench"), stream: stream}
	c.local = sdp.Local{IP: p.host, Port: stream.LocalPort(), Codecs: []string{"PCMU"}, Direction: sdp.SendRecv}
	offer, err := c.sess.Offer(c.local)
	if err != nil {
		stream.Close()
		return nil, err
	}
	req := gsip.NewRequest(gsip.INVITE, uri)
	req.SetBody(offer)
	req.AppendHeader(gsip.NewHeader("Content-Type", "application/sdp"))
	from := &gsip.FromHeader{Address: gsip.Uri{Scheme: "sip", User: "bench", Host: p.host, Port: p.port}, Params: gsip.NewParams()}
	from.Params.Add("tag", gsip.GenerateTagN(16))
	req.AppendHeader(from)
	if proxy != "" {
		var r gsip.Uri
		if err := gsip.ParseUri(proxy, &r); err != nil {
			stream.Close()
			return nil, fmt.Errorf("proxy %q: %w", proxy, err)
		}
		r.UriParams = gsip.NewParams()
		r.UriParams.Add("lr", "")
		req.AppendHeader(&gsip.RouteHeader{Address: r})
	}
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		stream.Close()
		return nil, fmt.Errorf("INVITE %s: %w", target, err)
	}
	c.dlg = dlg
	answerErr := make(chan error, 1)
	if answer != nil {
		go func() { answerErr <- answer(ctx) }()
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		stream.Close()
		select {
		case aerr := <-answerErr:
			err = errors.Join(err, aerr)
		default:
		}
		return nil, fmt.Errorf("call %s not answered: %w", target, err)
	}
	if err := dlg.Ack(ctx); err != nil {
		stream.Close()
		return nil, fmt.Errorf("ACK: %w", err)
	}
	m, err := c.sess.ParseAnswer(dlg.InviteResponse.Body())
	if err != nil {
		c.bye()
		return nil, fmt.Errorf("SDP answer of %s: %w", target, err)
	}
	codec, ok := audio.CodecByName(m.Codec)
	if !ok || m.Codec != "PCMU" || m.Ptime != 20 {
		c.bye()
		return nil, fmt.Errorf("%s answered %s ptime %d, not PCMU ptime 20", target, m.Codec, m.Ptime)
	}
	c.answered = time.Now()
	frames := int((plan.First+plan.For+10*time.Second)/frameDur) + 1
	first := c.answered.Add(plan.First)
	c.src = newClicker(first, first.Add(plan.For), plan.Period)
	c.det = newDetector(frames)
	err = stream.Start(media.Params{Remote: m.Addr(), Codec: codec, Send: true, Recv: true, Source: c.src, Sink: c.det})
	if err != nil {
		c.bye()
		return nil, err
	}
	p.mu.Lock()
	p.cur = c
	p.mu.Unlock()
	return c, nil
}

// hangup sends BYE and stops the media; the clicker and detector may be
// read afterwards (Close waits for the stream's goroutines).
func (p *clickPeer) hangup(c *peerCall) {
	c.bye()
	p.mu.Lock()
	p.cur = nil
	p.mu.Unlock()
}

// bye ends the call, the BYE first: closing the RTP port first would let
// the other side see ICMP errors and end the call as failed.
func (c *peerCall) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.dlg.Bye(ctx)
	_ = c.stream.Close()
}

// clicker is the peer's audio source: silence with a click every period
// from start on. It records when each click's onset went out: the frame is
// stamped when the send clock reads it (it leaves a few µs later), and a
// frame's last sample is taken to be "now", so sample i of it is
// now - 20 ms + i·125 µs. The detector uses the same convention, so the
// convention cancels out.
type clicker struct {
	until  time.Time
	period time.Duration
	next   time.Time
	burst  []int16
	onsets []time.Time
}

func newClicker(start, until time.Time, period time.Duration) *clicker {
	c := &clicker{until: until, period: period, next: start, burst: make([]int16, clickLen),
		onsets: make([]time.Time, 0, int(until.Sub(start)/period)+2)}
	for i := range c.burst {
		c.burst[i] = int16(clickAmp * math.Cos(2*math.Pi*clickHz*float64(i)/audio.SampleRate))
	}
	return c
}

func (c *clicker) ReadFrame(f []int16) error {
	clear(f)
	now := time.Now()
	if now.Before(c.next) || !now.Before(c.until) {
		return nil
	}
	copy(f[clickOffset:], c.burst)
	c.onsets = append(c.onsets, now.Add(-frameDur+clickOffset*sampleDur))
	for !c.next.After(now) {
		c.next = c.next.Add(c.period)
	}
	return nil
}

// detector is the peer's audio sink: it keeps every received frame and its
// arrival time (storage allocated up front, so the receive path does not
// allocate until it is full) for the analysis after the call.
type detector struct {
	samples  []int16
	arrivals []time.Time
}

func newDetector(frames int) *detector {
	return &detector{samples: make([]int16, 0, frames*audio.FrameSamples), arrivals: make([]time.Time, 0, frames)}
}

func (d *detector) WriteFrame(f []int16) error {
	d.arrivals = append(d.arrivals, time.Now())
	d.samples = append(d.samples, f...)
	return nil
}

// loopResult is what came back of one call's clicks.
type loopResult struct {
	Sent, Returned int
	Latencies      []time.Duration // one per returned click, in order
	PeakIn         int             // loudest received sample
	Stray          int             // onsets that matched no click
	Missing        []int           // clicks (0-based) that never came back
}

// analyse finds each returned click's onset (the first sample above 30 %
// of the loudest received sample, then 300 ms of deafness for its tail)
// and pairs it with the latest click sent before it.
func analyse(c *peerCall, period time.Duration) loopResult {
	return analyseSignal(c.src.onsets, c.det.samples, c.det.arrivals, period)
}

// analyseSignal is analyse on its own data: the onset time of each click
// sent, the samples received and the time each of their frames arrived.
func analyseSignal(onsets []time.Time, samples []int16, arrivals []time.Time, period time.Duration) (r loopResult) {
	r.Sent = len(onsets)
	for _, v := range samples {
		r.PeakIn = max(r.PeakIn, abs(int(v)))
	}
	used := make([]bool, len(onsets))
	defer func() {
		for i, u := range used {
			if !u {
				r.Missing = append(r.Missing, i)
			}
		}
	}()
	if r.PeakIn < 1000 { // nothing but silence and codec noise came back
		return r
	}
	thr := r.PeakIn * 3 / 10
	deafUntil := time.Time{}
	for i, v := range samples {
		if abs(int(v)) < thr {
			continue
		}
		fr, off := i/audio.FrameSamples, i%audio.FrameSamples
		at := arrivals[fr].Add(-frameDur + time.Duration(off)*sampleDur)
		if at.Before(deafUntil) {
			continue
		}
		deafUntil = at.Add(300 * time.Millisecond)
		k := -1
		for j, s := range onsets {
			if !s.After(at) {
				k = j
			}
		}
		if k < 0 || used[k] || at.Sub(onsets[k]) > period*9/10 {
			r.Stray++
			continue
		}
		used[k] = true
		r.Returned++
		r.Latencies = append(r.Latencies, at.Sub(onsets[k]))
	}
	return r
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// aor is user's address of record on k.
func aor(k *peers.Kamailio, user string) string {
	return "sip:" + user + "@" + k.Host + ":" + strconv.Itoa(k.Port)
}
