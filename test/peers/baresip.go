package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// DefaultBaresipSource is the audio source baresip sends when none is given:
// a 1000 Hz sine.
const DefaultBaresipSource = "ausine,1000"

// baresipModules is where Debian's baresip-core installs the modules.
const baresipModules = "/usr/lib/baresip/modules"

// BaresipOptions configures [StartBaresip].
type BaresipOptions struct {
	// User is the account's user part; "baresip" when empty.
	User string
	// Registrar, when set, makes the account register there (password
	// "secret"); nil means no registration: baresip only listens on its own
	// port and can be called at sip:USER@127.0.0.1:SIPPort().
	Registrar *Kamailio
	// TCP registers and calls over TCP (the registrar must listen on TCP).
	TCP bool
	// Source is baresip's audio_source: "ausine,1000" (default) or
	// "aufile,/path/file.wav". With aufile baresip hangs up at the end of the
	// file; the file's rate and channels are read from its header.
	Source string
	// AutoAnswer answers incoming calls at once (answermode=auto); otherwise
	// they ring until [Baresip.Answer].
	AutoAnswer bool
	// ViaProxy sends every request through Registrar as outbound proxy,
	// also calls to URIs on other hosts (Kamailio relays those as
	// addressed). Without it only the registrar's own users go through it.
	ViaProxy bool
	// Player is baresip's audio_player: "aubridge,nil" (default, no sound
	// card) or a sound card such as "alsa,default". A sound-card source or
	// player ("alsa,...") runs at baresip's own default rate and channels
	// (the codec's: 8 kHz mono for G.711), as an installed baresip would.
	Player string
	// Env is more environment for baresip, such as a [Pulse]'s Env so that
	// "alsa,default" reaches its null sink through the ALSA pulse plugin.
	Env []string
	// NoDumps leaves the sndfile module out: no WAV dumps of the call
	// (ReceivedDumps and SentDumps stay empty), so that a benchmark
	// measures baresip's own work and not the writing of two files.
	NoDumps bool
	// MediaEnc is the account's media encryption (;mediaenc=), with the
	// module that provides it loaded: "srtp" (SDES, best effort: RTP/AVP
	// with a=crypto, plain RTP if the other side has none), "srtp-mand"
	// (RTP/SAVP only), "srtp-mandf" (RTP/SAVPF), "dtls_srtp"... "" is
	// none: plain RTP/AVP, and an RTP/SAVP offer is not taken.
	MediaEnc string
}

// Baresip is a running baresip 1.0 remote-controlled over ctrl_tcp.
//
// Events are recorded in order. [Baresip.WaitEvent] returns the first
// recorded event of a type it has not returned before, so an event that
// arrived before the wait began is not lost. [Baresip.Events] is a separate
// copy of the stream for tests that want to range over it.
type Baresip struct {
	User string

	t        testing.TB
	dir      string
	sipPort  int
	ctrlPort int
	proc     *proc
	ctrl     *ctrlConn
	stopped  chan struct{}

	events  chan BaresipEvent
	dropped atomic.Int64

	mu       sync.Mutex
	history  []BaresipEvent
	consumed []bool
	notify   chan struct{} // closed and replaced on every new event
}

// StartBaresip renders a config and account, starts baresip with it and
// connects to its ctrl_tcp port. Registration is not awaited: call
// [Baresip.WaitRegistered].
func StartBaresip(t testing.TB, opts BaresipOptions) *Baresip {
	t.Helper()
	Require(t, "baresip")
	if opts.MediaEnc != "" {
		requireModule(t, mediaEncModule(opts.MediaEnc))
	}
	if opts.User == "" {
		opts.User = "baresip"
	}
	if opts.Source == "" {
		opts.Source = DefaultBaresipSource
	}
	dir := t.TempDir()
	b := &Baresip{
		User: opts.User, t: t, dir: dir,
		sipPort:  FreePort(t),
		ctrlPort: FreeTCPPort(t),
		stopped:  make(chan struct{}),
		events:   make(chan BaresipEvent, 1024),
		notify:   make(chan struct{}),
	}
	// Its own RTP port range, so baresip's random pick cannot land on a port
	// handed to another peer that has not bound it yet.
	rtp := FreeUDPPortRange(t, 8)
	if opts.Player == "" {
		opts.Player = "aubridge,nil"
	}
	srate, channels := 48000, 2
	playRate, playChannels := 48000, 1
	if strings.HasPrefix(opts.Source, "alsa,") {
		srate, channels = 0, 0 // omitted: baresip's default
	}
	if strings.HasPrefix(opts.Player, "alsa,") {
		playRate, playChannels = 0, 0
	}
	if file, ok := strings.CutPrefix(opts.Source, "aufile,"); ok {
		_, rate, ch, err := audio.ReadWAV(file)
		if err != nil {
			t.Fatalf("baresip source %s: %v", opts.Source, err)
		}
		srate, channels = rate, ch
	}
	if err := os.MkdirAll(b.DumpDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	err := render("baresip.config.tmpl", filepath.Join(dir, "config"), map[string]any{
		"Host": Host, "SIPPort": b.sipPort, "CtrlPort": b.ctrlPort,
		"Source": opts.Source, "SrcRate": srate, "SrcChannels": channels,
		"Player": opts.Player, "PlayRate": playRate, "PlayChannels": playChannels, "Dumps": !opts.NoDumps,
		"ALSA":       strings.HasPrefix(opts.Source, "alsa,") || strings.HasPrefix(opts.Player, "alsa,"),
		"ModulePath": baresipModules, "DumpDir": b.DumpDir(), "RTPPorts": fmt.Sprintf("%d-%d", rtp, rtp+7),
	})
	if err != nil {
		t.Fatal(err)
	}
	if opts.MediaEnc != "" {
		appendFile(t, filepath.Join(dir, "config"), "module\t\t\t"+mediaEncModule(opts.MediaEnc)+"\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(b.accountLine(opts)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An empty contacts file keeps baresip from writing its examples.
	if err := os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(dir, "baresip.log")
	logOnFailure(t, "baresip "+opts.User, logPath)
	p, err := startProc("baresip "+opts.User, dir, logPath, append([]string{"HOME=" + dir}, opts.Env...), os.DevNull,
		"baresip", "-f", dir)
	if err != nil {
		t.Fatal(err)
	}
	b.proc = p
	t.Cleanup(b.stop)

	var conn net.Conn
	err = waitFor(p, 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp4", net.JoinHostPort(Host, strconv.Itoa(b.ctrlPort)), time.Second)
		if err != nil {
			return false
		}
		conn = c
		return true
	})
	if err != nil {
		t.Fatalf("baresip %s: ctrl_tcp on port %d: %v", opts.User, b.ctrlPort, err)
	}
	b.ctrl = newCtrlConn(conn, b.record)
	return b
}

func (b *Baresip) accountLine(opts BaresipOptions) string {
	answer := "manual"
	if opts.AutoAnswer {
		answer = "auto"
	}
	params := ";answermode=" + answer + ";audio_codecs=PCMU,PCMA"
	if opts.MediaEnc != "" {
		params += ";mediaenc=" + opts.MediaEnc
	}
	if opts.Registrar == nil {
		return "<sip:" + opts.User + "@" + Host + ":" + strconv.Itoa(b.sipPort) + ">" + params + ";regint=0"
	}
	transport := ""
	if opts.TCP {
		transport = ";transport=tcp"
	}
	if opts.ViaProxy {
		params += ";outbound=\"" + opts.Registrar.URI() + transport + "\""
	}
	return "<" + opts.Registrar.AOR(opts.User) + transport + ">;auth_pass=secret" + params + ";regint=120"
}

// mediaEncModule is the baresip module that registers mediaenc enc:
// srtp.so for srtp, srtp-mand and srtp-mandf, dtls_srtp.so for dtls_srtp
// and dtls_srtpf, else enc.so.
func mediaEncModule(enc string) string {
	switch {
	case strings.HasPrefix(enc, "srtp"):
		return "srtp.so"
	case strings.HasPrefix(enc, "dtls_srtp"):
		return "dtls_srtp.so"
	}
	return enc + ".so"
}

// requireModule is Require for a baresip module: a missing one skips the
// test, or fails it under OPDESK_REQUIRE_PEERS=1.
func requireModule(t testing.TB, mod string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(baresipModules, mod)); err == nil {
		return
	}
	msg := "PEER MISSING: baresip module " + mod + " not in " + baresipModules +
		" — run .ci/run or apt-get install baresip-core; this test is NOT counted as passing"
	if os.Getenv(EnvRequirePeers) == "1" {
		t.Fatal(msg + " (" + EnvRequirePeers + "=1)")
	}
	t.Skip(msg)
}

// appendFile adds text at the end of a rendered file.
func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(text)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (b *Baresip) stop() {
	select {
	case <-b.stopped:
		return
	default:
		close(b.stopped)
	}
	b.proc.stop()
	if b.ctrl != nil {
		b.ctrl.close()
	}
	close(b.events)
}

func (b *Baresip) record(ev BaresipEvent) {
	b.mu.Lock()
	b.history = append(b.history, ev)
	b.consumed = append(b.consumed, false)
	close(b.notify)
	b.notify = make(chan struct{})
	b.mu.Unlock()
	select {
	case b.events <- ev:
	default:
		b.dropped.Add(1)
	}
}

// PID is the baresip process's id (for /proc measurements).
func (b *Baresip) PID() int { return b.proc.cmd.Process.Pid }

// SIPPort is the port baresip listens on for SIP (UDP and TCP).
func (b *Baresip) SIPPort() int { return b.sipPort }

// URI is baresip's direct address, "sip:USER@127.0.0.1:SIPPORT", which
// reaches it without a registrar.
func (b *Baresip) URI() string {
	return "sip:" + b.User + "@" + Host + ":" + strconv.Itoa(b.sipPort)
}

// Dir is baresip's config directory (config, accounts, baresip.log).
func (b *Baresip) Dir() string { return b.dir }

// DumpDir is sndfile's snd_path.
func (b *Baresip) DumpDir() string { return filepath.Join(b.dir, "dump") }

// Command sends a ctrl_tcp command (a menu command without the slash, such
// as "dial", "accept", "hangup", "reginfo") and returns baresip's response.
// A response with "ok": false is returned with an error wrapping
// [ErrCommandFailed].
func (b *Baresip) Command(cmd, params string) (BaresipResponse, error) {
	done := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(done) })
	defer timer.Stop()
	return b.ctrl.command(cmd, params, done)
}

func (b *Baresip) do(cmd, params string) error {
	_, err := b.Command(cmd, params)
	return err
}

// Dial calls uri ("dial").
func (b *Baresip) Dial(uri string) error { return b.do("dial", uri) }

// Answer accepts the ringing incoming call ("accept").
func (b *Baresip) Answer() error { return b.do("accept", "") }

// Hangup ends the current call, or rejects or cancels it ("hangup").
func (b *Baresip) Hangup() error { return b.do("hangup", "") }

// Hold puts the current call on hold with a re-INVITE ("hold").
func (b *Baresip) Hold() error { return b.do("hold", "") }

// Resume takes the current call off hold ("resume").
func (b *Baresip) Resume() error { return b.do("resume", "") }

// SendDTMF sends digits (0-9, *, #, A-D) as RTP telephone-events
// ("sndcode").
func (b *Baresip) SendDTMF(digits string) error { return b.do("sndcode", digits) }

// Events is a copy of the event stream, buffered (1024); events that do not
// fit are dropped and counted by [Baresip.DroppedEvents]. It is closed when
// baresip is stopped.
func (b *Baresip) Events() <-chan BaresipEvent { return b.events }

// DroppedEvents counts events the Events channel had no room for.
func (b *Baresip) DroppedEvents() int64 { return b.dropped.Load() }

// History returns every event received so far.
func (b *Baresip) History() []BaresipEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BaresipEvent(nil), b.history...)
}

// WaitEvent waits for an event of type typ (e.g. "CALL_ESTABLISHED") that
// no earlier WaitEvent returned, including ones that arrived before the call.
func (b *Baresip) WaitEvent(ctx context.Context, typ string) (BaresipEvent, error) {
	return b.WaitEventFunc(ctx, typ, func(ev BaresipEvent) bool { return ev.Type == typ })
}

// WaitEventFunc is WaitEvent with a predicate; what names it in errors.
func (b *Baresip) WaitEventFunc(ctx context.Context, what string, match func(BaresipEvent) bool) (BaresipEvent, error) {
	for {
		b.mu.Lock()
		for i, ev := range b.history {
			if !b.consumed[i] && match(ev) {
				b.consumed[i] = true
				b.mu.Unlock()
				return ev, nil
			}
		}
		notify := b.notify
		b.mu.Unlock()
		select {
		case <-notify:
		case <-b.stopped:
			return BaresipEvent{}, fmt.Errorf("baresip %s stopped while waiting for %s", b.User, what)
		case <-ctx.Done():
			return BaresipEvent{}, fmt.Errorf("baresip %s: waiting for %s: %w; events so far: %s",
				b.User, what, context.Cause(ctx), b.eventSummary())
		}
	}
}

// ReceivedDTMF returns the digits of all CALL_DTMF_START events so far, in
// order.
func (b *Baresip) ReceivedDTMF() string {
	var sb strings.Builder
	for _, ev := range b.History() {
		if ev.Type == "CALL_DTMF_START" {
			sb.WriteString(ev.Param)
		}
	}
	return sb.String()
}

func (b *Baresip) eventSummary() string {
	var parts []string
	for _, ev := range b.History() {
		if ev.Type == "CALL_RTCP" {
			continue
		}
		s := ev.Type
		if ev.Param != "" {
			s += "(" + ev.Param + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// WaitRegistered waits until the account is registered: a REGISTER_OK event,
// or "reginfo" reporting OK (the event may have come before ctrl_tcp was
// connected).
func (b *Baresip) WaitRegistered(ctx context.Context) error {
	for {
		b.mu.Lock()
		for i, ev := range b.history {
			if ev.Type == "REGISTER_OK" {
				b.consumed[i] = true
				b.mu.Unlock()
				return nil
			}
		}
		b.mu.Unlock()
		if resp, err := b.Command("reginfo", ""); err == nil && regInfoOK(resp.Data) {
			return nil
		}
		select {
		case <-ctx.Done():
			resp, _ := b.Command("reginfo", "")
			return fmt.Errorf("baresip %s: not registered: %w; reginfo: %q; events: %s",
				b.User, context.Cause(ctx), resp.Data, b.eventSummary())
		case <-b.stopped:
			return fmt.Errorf("baresip %s stopped while waiting for registration", b.User)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// regInfoOK parses "reginfo" output such as
// "> sip:alice@127.0.0.1:5060   \x1b[32mOK \x1b[;m kamailio ... Expires 120s".
func regInfoOK(data string) bool {
	for _, line := range strings.Split(data, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ">") && strings.Contains(line, "OK ") {
			return true
		}
	}
	return false
}

// DumpFiles lists the WAV files sndfile wrote, sorted. Per call it writes
// dump-YYYY-MM-DD-HH-MM-SS-enc.wav (what baresip sent, before encoding) and
// dump-YYYY-MM-DD-HH-MM-SS-dec.wav (what it received, after decoding), 8 kHz
// mono s16 for G.711. The header's sizes are only final once the call ended.
func (b *Baresip) DumpFiles() []string {
	files, _ := filepath.Glob(filepath.Join(b.DumpDir(), "dump-*.wav"))
	sort.Strings(files)
	return files
}

// ReceivedDumps lists the -dec.wav dumps (audio baresip received).
func (b *Baresip) ReceivedDumps() []string { return filterSuffix(b.DumpFiles(), "-dec.wav") }

// SentDumps lists the -enc.wav dumps (audio baresip sent).
func (b *Baresip) SentDumps() []string { return filterSuffix(b.DumpFiles(), "-enc.wav") }

func filterSuffix(files []string, suffix string) []string {
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, suffix) {
			out = append(out, f)
		}
	}
	return out
}
