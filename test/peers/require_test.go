package peers

import (
	"fmt"
	"strings"
	"testing"
)

// recordTB records Skip and Fatal instead of stopping the test.
type recordTB struct {
	testing.TB
	skip, fatal string
}

func (r *recordTB) Helper()           {}
func (r *recordTB) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }
func (r *recordTB) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }

func TestRequireMissingPeer(t *testing.T) {
	t.Setenv(EnvRequirePeers, "")
	r := &recordTB{TB: t}
	Require(r, "sipp-that-is-not-there")
	if !strings.HasPrefix(r.skip, "PEER MISSING: sipp-that-is-not-there not installed") || r.fatal != "" {
		t.Errorf("skip %q fatal %q", r.skip, r.fatal)
	}

	t.Setenv(EnvRequirePeers, "1")
	r = &recordTB{TB: t}
	Require(r, "sipp")
	Require(r, "kamailio-that-is-not-there")
	if !strings.Contains(r.fatal, "NOT counted as passing") || r.skip != "" {
		t.Errorf("skip %q fatal %q", r.skip, r.fatal)
	}
}
