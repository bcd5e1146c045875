package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/sip"
)

// Fixes that more than one check gives.
const (
	fixSIPPassword = "check sip.user, and give the right password in OPDESK_SIP_PASSWORD or a file named by sip.password_file (chmod 600)"
	fixCRMPassword = "check crm.user, and give the right password in OPDESK_CRM_PASSWORD or a file named by crm.password_file (chmod 600)"
)

// checkRegistrar registers for real, from an ephemeral port, and
// unregisters again; with an opdesk running it asks that one instead.
func (d *doctor) checkRegistrar(cfg *config.Config, running bool) {
	const name = "registrar"
	if cfg.SIP.Registrar == "" {
		d.report(finding{mark: markOK, name: name, what: "none set (sip.registrar): opdesk places direct calls to SIP URIs only"})
		return
	}
	if running {
		d.registrarOfRunning(cfg)
		return
	}
	pcfg := phoneConfig(cfg)
	host, _, err := net.SplitHostPort(cfg.SIP.Listen)
	if err != nil {
		host = "0.0.0.0"
	}
	pcfg.Listen = net.JoinHostPort(host, "0")
	// No sound, no recording: the phone only registers.
	pcfg.Input, pcfg.Output, pcfg.Device, pcfg.Ringer = "null", "null", nil, nil
	pcfg.Record, pcfg.RecordDir = audio.RecordNever, ""
	ph, err := sip.New(pcfg, sip.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		d.report(finding{mark: markFail, name: name, what: "cannot start SIP: " + err.Error(),
			fix: "check sip.registrar (a SIP URI such as sip:pbx.example.com:5060), sip.listen and sip.transport"})
		return
	}
	events, cancel := ph.Subscribe(16)
	st := waitRegistration(ph, events, d.regWait)
	cancel()
	closeWait := 300 * time.Millisecond // nothing to unregister: do not wait long
	if st.Registration == sip.RegRegistered {
		closeWait = 3 * time.Second
	}
	ctx, stop := context.WithTimeout(context.Background(), closeWait)
	_ = ph.Close(ctx)
	stop()
	d.report(registrarFinding(cfg, st, d.regWait))
}

// waitRegistration waits until the phone has registered or failed, or
// until wait has passed. Events wake it; the status is what it reads,
// since the first answer may come before the subscription.
func waitRegistration(ph *sip.Phone, events <-chan sip.Event, wait time.Duration) sip.Status {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st := ph.Status()
		if st.Registration == sip.RegRegistered || st.Registration == sip.RegFailed {
			return st
		}
		select {
		case <-events:
		case <-tick.C:
		case <-deadline.C:
			return ph.Status()
		}
	}
}

// registrarFinding turns a registration outcome into a line and a fix.
func registrarFinding(cfg *config.Config, st sip.Status, waited time.Duration) finding {
	const name = "registrar"
	reg := cfg.SIP.Registrar
	switch st.Registration {
	case sip.RegRegistered:
		return finding{mark: markOK, name: name, what: fmt.Sprintf("%s accepted %s for %d s", reg, st.AOR, st.Expires)}
	case sip.RegRegistering, sip.RegNone, sip.RegUnregistered:
		return finding{mark: markFail, name: name,
			what: fmt.Sprintf("%s did not answer within %d s (unreachable)", reg, int(waited.Round(time.Second)/time.Second)),
			fix:  unreachableFix(cfg, reg)}
	}
	text := st.LastError
	f := finding{mark: markFail, name: name, what: text}
	switch {
	case strings.Contains(text, "certificate"):
		f.fix = "if the PBX uses a company CA, name its PEM file in sip.tls_ca_file; if the certificate is for another name, set sip.tls_server_name to it"
	case strings.Contains(text, "none is configured"):
		f.what = "the PBX asks for a password and none is configured"
		f.fix = "give the password in OPDESK_SIP_PASSWORD or a file named by sip.password_file (chmod 600)"
	case strings.Contains(text, "rejected the user name or password"):
		f.fix = fixSIPPassword
	case strings.Contains(text, "did not answer"), strings.Contains(text, "cannot be found in DNS"):
		// The phone's words go on "— retrying", which the doctor does not.
		what, _, _ := strings.Cut(text, " — ")
		f.what = "unreachable: " + what
		f.fix = unreachableFix(cfg, reg)
	case strings.Contains(text, "423"):
		f.fix = "raise sip.expires to what the PBX asks for (its Min-Expires)"
	default:
		f.fix = "ask the PBX administrator why it refuses " + st.AOR + "; the code and reason above are what it said"
	}
	return f
}

// unreachableFix is the advice for a registrar that does not answer.
func unreachableFix(cfg *config.Config, reg string) string {
	return fmt.Sprintf("check the host and port in sip.registrar, DNS, that the PBX is up, and that no firewall drops %s port %s between here and it",
		strings.ToUpper(cfg.SIP.Transport), registrarPort(reg))
}

// registrarPort is the registrar URI's port, or 5060.
func registrarPort(reg string) string {
	if h, ok := registrarHostPort(reg); ok {
		_, p, _ := net.SplitHostPort(h)
		return p
	}
	return "5060"
}

// registrarHostPort is host:port of a registrar URI ("sip:pbx:5070;transport=udp").
func registrarHostPort(reg string) (string, bool) {
	s := reg
	for _, scheme := range []string{"sips:", "sip:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "", false
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, true
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "5060"), true
}

// registrarOfRunning reports the registration of the opdesk on ctl.socket.
func (d *doctor) registrarOfRunning(cfg *config.Config) {
	type answer struct {
		rep ctl.Reply
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		_, rep, err := ctl.Call(cfg.Ctl.Socket, ctl.Request{Cmd: "status"})
		ch <- answer{rep, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-time.After(3 * time.Second):
		a.err = errors.New("it did not answer within 3 s")
	}
	if a.err != nil || !a.rep.OK || a.rep.Status == nil {
		why := "no status"
		if a.err != nil {
			why = a.err.Error()
		} else if a.rep.Error != "" {
			why = a.rep.Error
		}
		d.report(finding{mark: markFail, name: "registrar", what: "the running opdesk did not report its registration: " + why,
			fix: "look at the log (" + cfg.Log.File + "); restart opdesk if it hangs"})
		return
	}
	st := *a.rep.Status
	f := registrarFinding(cfg, st, 0)
	switch st.Registration {
	case sip.RegRegistered:
		f.what = "the running opdesk is registered as " + st.AOR
	case sip.RegRegistering:
		f = finding{mark: markWarn, name: "registrar", what: "the running opdesk is still waiting for " + cfg.SIP.Registrar + " to answer",
			fix: "if this lasts, check the host and port in sip.registrar and the firewall between here and the PBX"}
	default:
		f.what = "the running opdesk: " + f.what
	}
	d.report(f)
}

// checkNAT compares the address this machine uses towards the registrar
// with the registrar's own: a private address talking to a public PBX is
// behind NAT, where one-way audio comes from. (The sip package does not
// expose the Via received/rport the registrar saw, so the local address is
// what there is to go on.)
func (d *doctor) checkNAT(cfg *config.Config) {
	const name = "NAT"
	hp, ok := registrarHostPort(cfg.SIP.Registrar)
	if cfg.SIP.Registrar == "" || !ok {
		return
	}
	c, err := net.Dial("udp", hp)
	if err != nil {
		d.report(finding{mark: markWarn, name: name, what: "cannot tell: no route to " + hp + ": " + err.Error()})
		return
	}
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	remote := c.RemoteAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	f := natFinding(local, remote, cfg.SIP.Transport, cfg.Media.RTPIP)
	d.report(f)
}

// cgnat is the carrier-grade NAT range (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// privateAddr reports an RFC 1918, unique-local or carrier-grade NAT address.
func privateAddr(a netip.Addr) bool { return a.IsPrivate() || cgnat.Contains(a) }

// natFinding judges local → registrar.
func natFinding(local, registrar netip.Addr, transport, rtpIP string) finding {
	const name = "NAT"
	switch {
	case local.IsLoopback() || registrar.IsLoopback():
		return finding{mark: markOK, name: name, what: fmt.Sprintf("the registrar is on this machine (%s)", registrar)}
	case privateAddr(local) && !privateAddr(registrar):
		f := finding{mark: markWarn, name: name,
			what: fmt.Sprintf("this machine is %s, a private address, and the registrar %s is not: you are behind NAT", local, registrar),
			fix:  "keep sip.transport udp (opdesk asks for rport, so replies find the way back)"}
		if transport != "udp" {
			f.fix = "use sip.transport udp (opdesk asks for rport, so replies find the way back)"
		}
		if rtpIP == "" {
			f.fix += "; if calls have one-way audio, set media.rtp_ip to your public address or ask for the PBX's NAT handling (comedia) to be on"
		} else {
			f.fix += "; media.rtp_ip is " + rtpIP + ", make sure the router forwards the RTP ports to this machine"
		}
		return f
	}
	return finding{mark: markOK, name: name, what: fmt.Sprintf("%s reaches the registrar %s directly (no NAT between)", local, registrar)}
}

// checkAudio lists the sound cards and opens the configured ones.
func (d *doctor) checkAudio(cfg *config.Config, running bool) {
	const name = "audio"
	in, out := audio.IsDeviceSpec(cfg.Audio.Input), audio.IsDeviceSpec(cfg.Audio.Output)
	if !in && !out {
		d.report(finding{mark: markOK, name: name, what: fmt.Sprintf("no sound card used (audio.input %s, audio.output %s)", cfg.Audio.Input, cfg.Audio.Output)})
		return
	}
	fixCard := "start the sound server (systemctl --user start pipewire-pulse or pulseaudio), add your user to group audio (sudo usermod -aG audio $USER, then log in again), or set audio.backend (alsa, or null for no sound)"
	infos, err := audio.ListDevices(cfg.Audio.Backend)
	if err != nil {
		d.report(finding{mark: markFail, name: name, what: "no sound card: " + err.Error(), fix: fixCard})
		return
	}
	var play, capt int
	for _, i := range infos {
		if i.Kind == "capture" {
			capt++
		} else {
			play++
		}
	}
	found := fmt.Sprintf("%d playback and %d capture devices", play, capt)
	if running {
		d.report(finding{mark: markOK, name: name, what: found + "; not opened, the running opdesk holds the card"})
		return
	}
	input, output := cfg.Audio.Input, cfg.Audio.Output
	if !in {
		input = "off"
	}
	if !out {
		output = "default"
	}
	log := slog.New(slog.DiscardHandler)
	dev, err := audio.OpenDevice(deviceConfig(cfg, log, input, output))
	if err != nil {
		f := finding{mark: markFail, name: name, what: found + ", but " + err.Error(), fix: fixCard}
		if errors.Is(err, audio.ErrDeviceNotFound) {
			f.fix = "set audio.input / audio.output to a NAME or ID that opdesk audio list prints (or default)"
		}
		d.report(f)
		return
	}
	opened := dev.Name()
	_ = dev.Close()
	if r := strings.TrimSpace(cfg.Audio.Ring); r != "" && !strings.EqualFold(r, "off") {
		ring, err := audio.OpenDevice(deviceConfig(cfg, log, "off", r))
		if err != nil {
			d.report(finding{mark: markWarn, name: name, what: opened + " opens, but the ringer " + r + " does not: " + err.Error(),
				fix: "set audio.ring to a playback NAME from opdesk audio list, or leave it empty to ring on the headset"})
			return
		}
		opened += "; ringer " + ring.Name()
		_ = ring.Close()
	}
	d.report(finding{mark: markOK, name: name, what: opened})
}

// checkCRM reaches the CRM, logs in, and compares clocks.
func (d *doctor) checkCRM(cfg *config.Config) {
	const name = "CRM"
	if cfg.CRM.URL == "" {
		d.report(finding{mark: markOK, name: name, what: "none set (crm.url): the desktop shows numbers only"})
		return
	}
	base := strings.TrimRight(cfg.CRM.URL, "/")
	hc := &http.Client{Timeout: d.httpTimeout}
	// A plain GET first: it tells "unreachable" apart from "wrong password"
	// and its Date header gives the CRM's clock.
	t0 := time.Now()
	res, err := hc.Get(base + "/openapi.json")
	rtt := time.Since(t0)
	if err != nil {
		d.report(finding{mark: markFail, name: name, what: "cannot reach " + base + ": " + plainNetErr(err),
			fix: "check crm.url, that the CRM is running, and any proxy or firewall between here and it"})
		return
	}
	res.Body.Close()
	d.report(clockFinding(res.Header.Get("Date"), t0.Add(rtt/2)))

	if cfg.CRM.User == "" || cfg.CRM.Password == "" {
		missing := "crm.user"
		fix := "set crm.user to your CRM login name"
		if cfg.CRM.User != "" {
			missing = "the CRM password"
			fix = "give it in OPDESK_CRM_PASSWORD or a file named by crm.password_file (chmod 600)"
		}
		d.report(finding{mark: markFail, name: name, what: base + " answers, but " + missing + " is not set", fix: fix})
		return
	}
	cl, err := crmclient.New(base, crmclient.WithHTTPClient(hc), crmclient.WithTimeout(d.httpTimeout),
		crmclient.WithDefaultRegion(cfg.CRM.Region))
	if err != nil {
		d.report(finding{mark: markFail, name: name, what: err.Error(), fix: "set crm.url to http(s)://host[:port]"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.httpTimeout)
	defer cancel()
	lr, err := cl.Login(ctx, cfg.CRM.User, cfg.CRM.Password.Reveal())
	switch {
	case errors.Is(err, crmclient.ErrUnauthorized):
		d.report(finding{mark: markFail, name: name, what: fmt.Sprintf("%s rejected the user %q or its password (401)", base, cfg.CRM.User),
			fix: fixCRMPassword})
	case errors.Is(err, crmclient.ErrUnavailable):
		d.report(finding{mark: markFail, name: name, what: base + " did not answer the login: " + plainNetErr(err),
			fix: "check that the CRM is running and not overloaded; try again in a minute"})
	case err != nil:
		d.report(finding{mark: markFail, name: name, what: "login failed: " + err.Error(),
			fix: "check crm.url points at the CRM itself (its /openapi.json), not a web page in front of it"})
	default:
		u := lr.User
		d.report(finding{mark: markOK, name: name, what: fmt.Sprintf("%s: logged in as %s (%s, %s)",
			base, sip.Clean(u.DisplayName), sip.Clean(u.Name), sip.Clean(string(u.Role)))})
	}
}

// clockFinding compares the CRM's Date header with the local clock at the
// middle of the request. Date has whole seconds, so the CRM's time is taken
// as Date + 0.5 s.
func clockFinding(date string, local time.Time) finding {
	const name = "clock"
	if date == "" {
		return finding{mark: markWarn, name: name, what: "the CRM sent no Date header; cannot compare clocks"}
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return finding{mark: markWarn, name: name, what: "the CRM's Date header is unreadable; cannot compare clocks"}
	}
	skew := t.Add(500 * time.Millisecond).Sub(local)
	abs := skew.Abs()
	dir := "behind"
	if skew > 0 {
		dir = "ahead of"
	}
	const fix = "turn on time synchronisation (timedatectl set-ntp true), here and on the CRM server"
	switch {
	case abs > 60*time.Second:
		return finding{mark: markFail, name: name, what: fmt.Sprintf("the CRM's clock is %s %s this machine's: call times and callbacks will be wrong", fmtSkew(abs), dir), fix: fix}
	case abs > 2*time.Second:
		return finding{mark: markWarn, name: name, what: fmt.Sprintf("the CRM's clock is %s %s this machine's", fmtSkew(abs), dir), fix: fix}
	}
	return finding{mark: markOK, name: name, what: "within 2 s of the CRM's"}
}

func fmtSkew(d time.Duration) string {
	if d < time.Minute {
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	}
	return d.Round(time.Second).String()
}

// plainNetErr shortens a network error to its cause ("connection refused"),
// which the line's own words put in context.
func plainNetErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	return err.Error()
}
