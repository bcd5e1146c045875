package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
)

// RecordingProxy serves a reverse proxy to the CRM at upstream
// ("http://127.0.0.1:PORT") and returns its URL. It passes everything
// through unchanged (server-sent events are flushed at once) and records
// every bearer token on the way: the "token" of each login answer and the
// token of each request's Authorization header. That is how the check
// knows the real tokens the CRM issued to the desktops under test: the CRM
// keeps only their SHA-256. While the CRM is down the proxy answers 502,
// which clients take as "CRM unreachable" like a refused connection.
// It stops when the test ends.
func RecordingProxy(t testing.TB, upstream string) string {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			if scheme, tok, ok := strings.Cut(r.In.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
				recordOrSay(tok)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			if !strings.HasSuffix(res.Request.URL.Path, "/v1/login") || res.StatusCode != http.StatusOK {
				return nil
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				return err
			}
			var login struct {
				Token string `json:"token"`
			}
			if json.Unmarshal(body, &login) == nil {
				recordOrSay(login.Token)
			}
			res.Body = io.NopCloser(bytes.NewReader(body))
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.CloseClientConnections() // event streams would hold Close up
		srv.Close()
	})
	return srv.URL
}

// recordOrSay records a token seen by the proxy, which runs on the server's
// goroutines, where a failure cannot fail the test: it is said on stderr,
// and the check then finds the token missing or the run's secrets short.
func recordOrSay(tok string) {
	if err := record(tok); err != nil {
		fmt.Fprintln(os.Stderr, "secrets: recording a CRM token:", err)
	}
}
