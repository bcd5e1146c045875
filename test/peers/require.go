package peers

import (
	"os"
	"os/exec"
	"testing"
)

// EnvRequirePeers is the environment variable that turns a missing peer from a
// skip into a failure. CI sets it to "1".
const EnvRequirePeers = "OPDESK_REQUIRE_PEERS"

// debPackage names the Debian package that ships a peer's binary.
var debPackage = map[string]string{
	"kamailio":    "kamailio",
	"baresip":     "baresip-core",
	"linphonec":   "linphone-cli",
	"linphonecsh": "linphone-cli",
	"sipp":        "sip-tester",
	"pulseaudio":  "pulseaudio",
	"pactl":       "pulseaudio-utils",
	"sox":         "sox",
	"soxi":        "sox",
	"espeak-ng":   "espeak-ng",
	"tshark":      "tshark",
	"svmap":       "sipvicious",
	"svwar":       "sipvicious",
}

// Require makes sure every named binary is on PATH and returns.
//
// A missing binary skips the test with a loud reason, because a skipped
// interop test must not be mistaken for a passing one; when
// OPDESK_REQUIRE_PEERS=1 it fails the test instead.
func Require(t testing.TB, bins ...string) {
	t.Helper()
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err == nil {
			continue
		}
		pkg := debPackage[bin]
		if pkg == "" {
			pkg = bin
		}
		msg := "PEER MISSING: " + bin + " not installed — run .ci/run or apt-get install " + pkg +
			"; this test is NOT counted as passing"
		if os.Getenv(EnvRequirePeers) == "1" {
			t.Fatal(msg + " (" + EnvRequirePeers + "=1)")
			return
		}
		t.Skip(msg)
		return
	}
}
