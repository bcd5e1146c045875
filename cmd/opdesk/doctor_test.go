package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/sip"
	"golang.org/x/crypto/bcrypt"
)

// quietAudio keeps the sound card out of tests that are about something else.
const quietAudio = "[audio]\ninput = \"null\"\noutput = \"null\"\n"

// doctorRun writes cfgText to a config file and runs the doctor on it.
func doctorRun(t *testing.T, env []string, cfgText string, args ...string) (out string, code int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	d := &doctor{out: &b, env: env, regWait: 5 * time.Second, httpTimeout: 2 * time.Second}
	code = d.run(append([]string{"--config", path}, args...))
	return b.String(), code
}

// wantLines fails unless out has a line starting with each prefix.
func wantLines(t *testing.T, out string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, p) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line starting %q in:\n%s", p, out)
		}
	}
}

func TestDoctorConfigTypo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("[sip]\nuser = \"1001\"\nregistar = \"sip:pbx.example.com\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	d := &doctor{out: &b, env: testEnv(t), regWait: time.Second, httpTimeout: time.Second}
	code := d.run([]string{"--config", path})
	out := b.String()
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	wantLines(t, out, "✘ config: the configuration does not load", "    "+path+":3: ", "  → fix: ")
	if !strings.Contains(out, "registrar") {
		t.Errorf("the typo's suggestion is missing:\n%s", out)
	}
}

func TestDoctorAllGood(t *testing.T) {
	out, code := doctorRun(t, testEnv(t), quietAudio)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✔ config:", "✔ log directory:", "✔ recordings directory:", "✔ socket directory:",
		"✔ control socket: no opdesk is running", "✔ registrar: none set", "✔ audio: no sound card used", "✔ CRM: none set")
}

func TestDoctorUnwritableDir(t *testing.T) {
	// A file where a directory should be: fails for root too.
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := doctorRun(t, testEnv(t), quietAudio, "--log.file="+filepath.Join(blocker, "opdesk.log"))
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ log directory: "+blocker+" is not writable", "  → fix: give your user write access")
}

// startCRM serves the reference CRM (SQLite in a temp dir, demo users) on a
// loopback port.
func startCRM(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	st, err := crmserver.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "crm.db"), crmserver.WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	if err := crmserver.Seed(ctx, st, crmserver.SeedOptions{Customers: 5, Rand: rand.New(rand.NewPCG(1, 2))}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st.Handler())
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return srv
}

func TestDoctorCRM(t *testing.T) {
	srv := startCRM(t)
	cfg := quietAudio + "[crm]\nurl = \"" + srv.URL + "\"\nuser = \"agent1\"\n"

	out, code := doctorRun(t, testEnv(t, "OPDESK_CRM_PASSWORD=agent1-demo"), cfg)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✔ CRM: "+srv.URL+": logged in as ", "✔ clock: within 2 s")
	if !strings.Contains(out, "(agent1, agent)") {
		t.Errorf("user and role missing:\n%s", out)
	}

	out, code = doctorRun(t, testEnv(t, "OPDESK_CRM_PASSWORD=Wr0ng-pass"), cfg)
	if code != 1 {
		t.Fatalf("wrong password: exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ CRM: "+srv.URL+" rejected the user \"agent1\" or its password (401)", "  → fix: check crm.user")
	if !strings.Contains(out, "OPDESK_CRM_PASSWORD") {
		t.Errorf("the fix does not say where the password goes:\n%s", out)
	}
	if strings.Contains(out, "Wr0ng-pass") || strings.Contains(out, "agent1-demo") {
		t.Fatalf("a password is printed:\n%s", out)
	}

	srv.Close()
	out, code = doctorRun(t, testEnv(t, "OPDESK_CRM_PASSWORD=agent1-demo"), cfg)
	if code != 1 {
		t.Fatalf("stopped CRM: exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ CRM: cannot reach "+srv.URL, "  → fix: check crm.url")
}

func TestDoctorClock(t *testing.T) {
	now := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		date string
		mark string
	}{
		{now.Format(http.TimeFormat), markOK},
		{now.Add(-1 * time.Second).Format(http.TimeFormat), markOK},
		{now.Add(5 * time.Second).Format(http.TimeFormat), markWarn},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), markWarn},
		{now.Add(-90 * time.Second).Format(http.TimeFormat), markFail},
		{now.Add(2 * time.Hour).Format(http.TimeFormat), markFail},
		{"", markWarn},
		{"yesterday", markWarn},
	} {
		f := clockFinding(tc.date, now)
		if f.mark != tc.mark {
			t.Errorf("Date %q: %s %s, want %s", tc.date, f.mark, f.what, tc.mark)
		}
		if f.mark != markOK && tc.date != "" && tc.date != "yesterday" && !strings.Contains(f.fix, "timedatectl set-ntp true") {
			t.Errorf("Date %q: fix %q", tc.date, f.fix)
		}
	}
	// Through HTTP: a CRM whose clock is an hour ahead.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		http.Error(w, `{"error":{"code":"unauthorized","message":"no"}}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	out, _ := doctorRun(t, testEnv(t, "OPDESK_CRM_PASSWORD=x"), quietAudio+"[crm]\nurl = \""+srv.URL+"\"\nuser = \"agent1\"\n")
	wantLines(t, out, "✘ clock: the CRM's clock is 1h0m0s ahead of this machine's", "  → fix: turn on time synchronisation (timedatectl set-ntp true)")
}

func TestDoctorNAT(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		local, reg string
		mark       string
	}{
		{"192.168.1.5", "203.0.113.7", markWarn},
		{"10.0.0.5", "198.51.100.1", markWarn},
		{"100.64.3.4", "198.51.100.1", markWarn}, // carrier-grade NAT
		{"192.168.1.5", "192.168.1.1", markOK},
		{"203.0.113.9", "198.51.100.1", markOK},
		{"127.0.0.1", "127.0.0.1", markOK},
	} {
		f := natFinding(a(tc.local), a(tc.reg), "udp", "")
		if f.mark != tc.mark {
			t.Errorf("%s → %s: %s %s, want %s", tc.local, tc.reg, f.mark, f.what, tc.mark)
		}
		if f.mark == markWarn && (!strings.Contains(f.what, "behind NAT") || !strings.Contains(f.fix, "media.rtp_ip")) {
			t.Errorf("%s → %s: %q / %q", tc.local, tc.reg, f.what, f.fix)
		}
	}
}

// freeUDPPort returns a loopback UDP port nobody listens on.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

func TestDoctorRegistrarUnreachable(t *testing.T) {
	port := freeUDPPort(t)
	cfg := quietAudio + "[sip]\nuser = \"1001\"\nregistrar = \"sip:127.0.0.1:" + strconv.Itoa(port) + "\"\nlisten = \"127.0.0.1:5060\"\n"
	t0 := time.Now()
	out, code := doctorRun(t, testEnv(t, "OPDESK_SIP_PASSWORD=Sekr1t-pw"), cfg)
	took := time.Since(t0)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ registrar: unreachable: registrar 127.0.0.1:"+strconv.Itoa(port)+" did not answer",
		"  → fix: check the host and port in sip.registrar", "✔ NAT: the registrar is on this machine")
	if took > 7*time.Second {
		t.Errorf("the doctor took %s for an unreachable registrar, want about 5 s", took)
	}
	if strings.Contains(out, "Sekr1t-pw") {
		t.Fatalf("the password is printed:\n%s", out)
	}
	t.Logf("unreachable registrar reported in %s", took.Round(10*time.Millisecond))
}

// TestDoctorRegistrarOK registers with a real SIP registrar: an opdesk
// phone with its location service on (what the demo line uses).
func TestDoctorRegistrarOK(t *testing.T) {
	reg, err := sip.New(sip.Config{User: "pbx", Listen: "127.0.0.1:0", AcceptRegister: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close(context.Background())
	cfg := quietAudio + "[sip]\nuser = \"1001\"\nregistrar = \"sip:" + reg.Addr() + "\"\nlisten = \"127.0.0.1:5060\"\n"
	out, code := doctorRun(t, testEnv(t), cfg)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✔ registrar: sip:"+reg.Addr()+" accepted sip:1001@127.0.0.1 for ")
}

// fakeRegistrar answers every SIP request on a loopback UDP port with code.
func fakeRegistrar(t *testing.T, code int, reason string) string {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			head, _, _ := strings.Cut(string(buf[:n]), "\r\n\r\n")
			var b strings.Builder
			b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
			for _, l := range strings.Split(head, "\r\n")[1:] {
				name, _, _ := strings.Cut(l, ":")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "via", "from", "call-id", "cseq":
					b.WriteString(l + "\r\n")
				case "to":
					b.WriteString(l + ";tag=fake1\r\n")
				}
			}
			b.WriteString("Content-Length: 0\r\n\r\n")
			_, _ = c.WriteTo([]byte(b.String()), from)
		}
	}()
	return c.LocalAddr().String()
}

func TestDoctorRegistrarRefuses(t *testing.T) {
	addr := fakeRegistrar(t, 403, "Forbidden")
	cfg := quietAudio + "[sip]\nuser = \"1001\"\nregistrar = \"sip:" + addr + "\"\nlisten = \"127.0.0.1:5060\"\n"
	out, code := doctorRun(t, testEnv(t, "OPDESK_SIP_PASSWORD=Sekr1t-pw"), cfg)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ registrar: the PBX rejected the user name or password (403 Forbidden)",
		"  → fix: check sip.user, and give the right password in OPDESK_SIP_PASSWORD or a file named by sip.password_file")
	if strings.Contains(out, "Sekr1t-pw") {
		t.Fatalf("the password is printed:\n%s", out)
	}

	addr = fakeRegistrar(t, 503, "Service Unavailable")
	cfg = quietAudio + "[sip]\nuser = \"1001\"\nregistrar = \"sip:" + addr + "\"\nlisten = \"127.0.0.1:5060\"\n"
	out, _ = doctorRun(t, testEnv(t, "OPDESK_SIP_PASSWORD=Sekr1t-pw"), cfg)
	wantLines(t, out, "✘ registrar: the PBX refused the registration (503 Service Unavailable)", "  → fix: ask the PBX administrator")
}

// TestDoctorRunningOpdesk: with an opdesk on the control socket the doctor
// asks it for its registration and does not register itself.
func TestDoctorRunningOpdesk(t *testing.T) {
	ph := &fakePhone{status: sip.Status{Registration: sip.RegRegistered, AOR: "sip:1001@pbx.example.com", Expires: 300}}
	sock := startCtl(t, ph)
	port := freeUDPPort(t) // would take 5 s if the doctor registered itself
	cfg := quietAudio + "[sip]\nuser = \"1001\"\nregistrar = \"sip:127.0.0.1:" + strconv.Itoa(port) + "\"\n"
	t0 := time.Now()
	out, code := doctorRun(t, testEnv(t), cfg, "--ctl.socket="+sock)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✔ control socket: an opdesk is running on "+sock, "✔ registrar: the running opdesk is registered as sip:1001@pbx.example.com")
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("took %s: the doctor seems to have registered itself", took)
	}

	ph.status = sip.Status{Registration: sip.RegFailed, LastError: "the PBX rejected the user name or password (401 Unauthorized)"}
	out, code = doctorRun(t, testEnv(t), cfg, "--ctl.socket="+sock)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "✘ registrar: the running opdesk: the PBX rejected the user name or password", "  → fix: check sip.user")
}
