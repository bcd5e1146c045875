package crmclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The CRM is a server on the network: whatever it answers, the client must
// return a value or an error a person can be told about (ErrBadResponse for a
// body that is not the documented JSON, ErrUnavailable for one cut short),
// never panic, and never hand the desktop a value it cannot show. These
// targets answer each request from the fuzzer's bytes through the client's
// real HTTP path; seeds: testdata/fuzz/<FuzzName>.

// fuzzCRM answers every request with 200, contentType and the body route
// picks for its path.
type fuzzCRM struct {
	contentType string
	route       func(path string) []byte
}

func (f fuzzCRM) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Request: r,
		Header: http.Header{"Content-Type": {f.contentType}},
		Body:   io.NopCloser(bytes.NewReader(f.route(r.URL.Path)))}, nil
}

// noBackoff makes the GET retries of a cut-short body immediate for the rest
// of the fuzz target (the tests of this package do not run in parallel).
func noBackoff(f *testing.F) {
	saved := backoff
	backoff = [maxTries - 1]time.Duration{}
	f.Cleanup(func() { backoff = saved })
}

func fuzzClient(t *testing.T, contentType string, route func(path string) []byte) *Client {
	t.Helper()
	c, err := New("http://crm.invalid", WithToken("t"), WithTimeout(2*time.Second),
		WithHTTPClient(&http.Client{Transport: fuzzCRM{contentType, route}}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCRMError fails unless err is one of the documented kinds.
func checkCRMError(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error of no documented kind: %v", err)
	}
}

// mustRemarshal fails if v cannot be encoded again (the card cache and the
// outbox store values as JSON).
func mustRemarshal(t *testing.T, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("decoded value does not encode: %v", err)
	}
}

// decodeAnswer answers every request of get with body and checks what comes
// back; ok says get returned a value.
func decodeAnswer[T any](t *testing.T, body []byte, get func(*Client) (T, error)) (v T, ok bool) {
	t.Helper()
	v, err := get(fuzzClient(t, "application/json", func(string) []byte { return body }))
	checkCRMError(t, err)
	if err != nil {
		return v, false
	}
	mustRemarshal(t, v)
	return v, true
}

// FuzzScreenPopJSON: the three answers a screen pop reads (customers by
// phone, then one customer's orders and calls).
func FuzzScreenPopJSON(f *testing.F) {
	noBackoff(f)
	for _, s := range [][3]string{
		{`{"customers":[{"id":"c1","name":"山田 太郎","name_kana":"ヤマダ タロウ","phones":["+81312345678"],"notes":"定期便\n不在がち"}]}`,
			`{"orders":[{"id":"o1","customer_id":"c1","items":[{"sku":"A-1","name":"青汁","quantity":2,"unit_price_jpy":1980}],"amount_jpy":3960,"status":"shipped","ordered_at":"2025-06-01T10:00:00+09:00","shipped_at":"2025-06-02T09:00:00+09:00","subscription":true}]}`,
			`{"calls":[{"id":"k1","customer_id":"c1","started_at":"2025-06-03T11:00:00Z","agent":"op1","direction":"inbound","duration_seconds":95,"disposition":"resolved","notes":"住所変更"}]}`},
		{`{"customers":[]}`, ``, ``},
		{`{"customers":[{"id":"c1"},{"id":"c2"}]}`, ``, ``},
		{`{"customers":[{"id":"c1","name":"\u001b]0;pwned\u0007\u001b[2J山田\u202e"}]}`, `{"orders":null}`, `{"calls":[{}]}`},
		{`{"customers":[{"id":"c1"}]}`, `{"orders":[{"items":[{"quantity":-1}]`, `{}`},
		{`<html>502 Bad Gateway</html>`, ``, ``},
	} {
		f.Add([]byte(s[0]), []byte(s[1]), []byte(s[2]))
	}
	f.Fuzz(func(t *testing.T, customers, orders, calls []byte) {
		c := fuzzClient(t, "application/json", func(path string) []byte {
			switch {
			case strings.HasSuffix(path, "/orders"):
				return orders
			case strings.HasSuffix(path, "/calls"):
				return calls
			}
			return customers
		})
		card, err := c.ScreenPop(context.Background(), "03-1234-5678")
		checkCRMError(t, err)
		if err != nil {
			return
		}
		if card.Phone != "+81312345678" {
			t.Fatalf("card for %q", card.Phone)
		}
		if len(card.Customers) != 1 && (card.Orders != nil || card.Calls != nil) {
			t.Fatalf("orders or calls fetched for %d customers", len(card.Customers))
		}
		mustRemarshal(t, card)
	})
}

// FuzzLeadJSON: the next lead of a campaign.
func FuzzLeadJSON(f *testing.F) {
	noBackoff(f)
	for _, s := range []string{
		`{"id":"l1","campaign_id":"c1","phone":"+81312345678","name":"佐藤 花子","name_kana":"サトウ ハナコ","status":"leased","attempts":1,"last_result":"no_answer","last_attempt_at":"2025-06-18T10:00:00+09:00","fields":{"契約":"定期","前回":"6/1"},"leased_to":"op1","lease_until":"2025-06-18T10:05:00+09:00"}`,
		`{"id":"l2","phone":"+14155552671","fields":null,"callback_at":"2025-06-18T15:00:00-07:00","callback_scope":"agent","callback_agent":"op2","time_zone":"America/Los_Angeles"}`,
		`{"id":"l3","name":"\u009b2J\u2066x","fields":{"\u001b[31m":"\u202e"}}`,
		`{"id":1}`,
		`{"next_attempt_at":"not a time"}`,
		`{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeAnswer(t, body, func(c *Client) (Lead, error) { return c.NextLead(context.Background(), "c1") })
	})
}

// FuzzWallboardJSON: a supervisor's wallboard figures.
func FuzzWallboardJSON(f *testing.F) {
	noBackoff(f)
	for _, s := range []string{
		`{"day":"2025-06-18","time_zone":"Asia/Tokyo","generated_at":"2025-06-18T10:00:00+09:00","agents":[{"agent":"op1","display_name":"鈴木","state":{"agent":"op1","state":"on_call","since":"2025-06-18T09:58:00+09:00"},"call":{"agent":"op1","call_id":"a@b","direction":"inbound","number":"+81312345678","at":"2025-06-18T09:58:00+09:00"},"handled":12,"talk_seconds":3600,"acw_seconds":600,"aht_seconds":350}],"team":{"offered":20,"answered":18,"abandoned":2},"intervals":[{"start":"2025-06-18T09:00:00+09:00","offered":5,"answered":5}]}`,
		`{"day":"2025-06-18","agents":[],"intervals":[]}`,
		`{"agents":[{"display_name":"\u001b]0;pwned\u0007\u001b[2J","state":{"state":"not_ready","reason":"\u202ebreak"}}]}`,
		`{"agents":[{"handled":1e400}]}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeAnswer(t, body, func(c *Client) (Wallboard, error) { return c.Wallboard(context.Background(), "", 0) })
	})
}

// FuzzScriptJSON: a talk script, walked as the desktop walks it (every
// node, every choice's target, every text rendered with the fields).
func FuzzScriptJSON(f *testing.F) {
	noBackoff(f)
	for _, s := range []string{
		`{"id":"s1","name":"定期便の解約","start":"n1","nodes":[{"id":"n1","title":"ご本人確認","body":"{{customer.name}}様でいらっしゃいますか。","choices":[{"label":"1. 本人確認できた","next":"n2"},{"label":"2. 代理の方","next":"n3"}]},{"id":"n2","title":"ご用件","body":"**解約理由**を伺います。"},{"id":"n3","title":"代理","body":"","choices":[{"label":"戻る","next":"n1"}]}],"checklist":[{"id":"c1","label":"Disclosure","label_ja":"事業者名を告げた","required":true}]}`,
		`{"id":"s2","start":"missing","nodes":[{"id":"n1","choices":[{"next":"n1"}]}]}`,
		`{"id":"s3","start":"n1","nodes":[{"id":"n1","title":"\u001b[2J","body":"{{ {{customer.name}} }}\u202e"},{"id":"n1"}]}`,
		`{"nodes":"x"}`,
	} {
		f.Add([]byte(s))
	}
	vars := map[string]string{FieldCustomerName: "山田", FieldAgentDisplayName: "鈴木"}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, ok := decodeAnswer(t, body, func(c *Client) (Script, error) { return c.GetScript(context.Background(), "s1") })
		if !ok {
			return
		}
		for _, n := range s.Nodes {
			RenderScript(n.Title, vars)
			RenderScript(n.Body, vars)
			for _, ch := range n.Choices {
				RenderScript(ch.Label, vars)
				s.Node(ch.Next)
			}
		}
		s.Node(s.Start)
	})
}

// FuzzEventStream: the supervisors' event stream, every event decoded as
// the wallboard decodes it.
func FuzzEventStream(f *testing.F) {
	for _, s := range []string{
		"event: ready\ndata: {\"after\":41,\"heartbeat_ms\":15000}\n\n" +
			"id: 42\nevent: agent_state\ndata: {\"agent\":\"op1\",\"state\":\"ready\",\"since\":\"2025-06-18T09:00:00Z\"}\n\n" +
			": heartbeat\n\n" +
			"id: 43\nevent: call_started\ndata: {\"agent\":\"op1\",\"call_id\":\"x@y\",\"direction\":\"inbound\",\"number\":\"+81312345678\",\"at\":\"2025-06-18T09:01:00Z\"}\n\n" +
			"id: 44\nevent: call_missed\ndata: {\"agent\":\"op1\",\"call_id\":\"z@y\",\"abandoned\":true}\n\n" +
			"id: 45\nevent: counters\ndata: {\"agent\":\"op1\",\"campaign_id\":\"c1\",\"day\":\"2025-06-18\"}\n\n",
		"event: ready\r\ndata: {\"after\":0}\r\n\r\nid: 1\r\nevent: monitor_granted\r\ndata: {\"supervisor\":\"sv1\",\"agent\":\"op1\",\"mode\":\"listen\"}\r\n\r\n",
		"event: ready\ndata: {}\n\nid: 2\nevent: agent_state\ndata: {\"agent\":\"\\u001b]0;pwned\\u0007\",\"reason\":\"\\u202e\"}\n\n",
		"id: x\nevent: ready\ndata: {}\n\n",
		"event: ready\ndata: {\"after\":\"x\"}\n\n",
		"retry: 1\nevent: unknown_kind\ndata: 1\ndata: 2\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		c := fuzzClient(t, "text/event-stream", func(string) []byte { return []byte(stream) })
		n := 0
		err := c.Events(context.Background(), -1, func(ev Event) error {
			n++
			var derr error
			switch ev.Kind {
			case EventReady:
				_, derr = ev.Ready()
			case EventAgentState:
				_, derr = ev.AgentState()
			case EventCallStarted, EventCallEnded, EventCallMissed:
				_, derr = ev.Call()
			case EventMonitorGranted:
				_, derr = ev.MonitorGranted()
			case EventCounters:
				_, derr = ev.Counters()
			}
			if derr != nil && !errors.Is(derr, ErrBadResponse) {
				t.Fatalf("event %d (%s): %v", ev.ID, ev.Kind, derr)
			}
			if n > len(stream) {
				t.Fatal("more events than bytes")
			}
			return nil
		})
		// The stream always ends: the server closed it, or sent garbage.
		if err == nil {
			t.Fatal("Events returned nil at the end of the stream")
		}
		checkCRMError(t, err)
	})
}
