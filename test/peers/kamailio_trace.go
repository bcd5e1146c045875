package peers

import (
	"os"
	"strconv"
	"strings"
)

// Register is one REGISTER as Kamailio decided it.
type Register struct {
	Reply   int  // 401 (challenged) or 200 (saved)
	Auth    bool // it carried an Authorization header
	Expires int  // its Expires header, -1 when absent
}

// Registers lists the REGISTERs Kamailio answered for user, in order, from
// the REGRESULT lines its config logs.
func (k *Kamailio) Registers(user string) []Register {
	var out []Register
	for _, f := range k.traceLines("REGRESULT") {
		if f["user"] != user {
			continue
		}
		r := Register{Expires: -1}
		r.Reply, _ = strconv.Atoi(f["code"])
		r.Auth = f["auth"] != "" && f["auth"] != "0" && f["auth"] != "<null>"
		if n, err := strconv.Atoi(f["expires"]); err == nil {
			r.Expires = n
		}
		out = append(out, r)
	}
	return out
}

// SawHeader reports whether a request of method passed through Kamailio
// with the named header (one of the headers the TRACE line records:
// Authorization, Replaces).
func (k *Kamailio) SawHeader(method, header string) bool {
	key := strings.ToLower(header)
	for _, f := range k.traceLines("TRACE") {
		if f["method"] == method && f[key] != "" && f[key] != "0" && f[key] != "<null>" {
			return true
		}
	}
	return false
}

// Routed is one request a [Route] sent to its target.
type Routed struct {
	Method string // INVITE, OPTIONS...
	User   string // the Request-URI user, the number dialed
	Prefix string // the Route's prefix that matched
	Target string // where it went
}

// Routed lists the requests Kamailio relayed by a [Route], in order, from
// the ROUTED lines its config logs.
func (k *Kamailio) Routed() []Routed {
	var out []Routed
	for _, f := range k.traceLines("ROUTED") {
		out = append(out, Routed{Method: f["method"], User: f["user"], Prefix: f["prefix"], Target: f["target"]})
	}
	return out
}

// traceLines parses "TAG k=v k=v" lines of the log.
func (k *Kamailio) traceLines(tag string) []map[string]string {
	b, err := os.ReadFile(k.logPath)
	if err != nil {
		return nil
	}
	var out []map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.Index(line, "<script>: "+tag+" ")
		if i < 0 {
			continue
		}
		f := map[string]string{}
		for _, kv := range strings.Fields(line[i+len("<script>: "+tag+" "):]) {
			key, v, _ := strings.Cut(kv, "=")
			f[key] = v
		}
		out = append(out, f)
	}
	return out
}
