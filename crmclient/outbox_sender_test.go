package crmclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient/outbox"
)

// TestOutboxSenderDisposition: a disposition goes out as is, with the item's
// key, and the answer's status decides between park and retry.
func TestOutboxSenderDisposition(t *testing.T) {
	body := []byte(`{"campaign_id":"renewal","lead_id":"7","started_at":"2025-06-10T09:00:00Z","code":"success"}`)
	var (
		mu     sync.Mutex
		status = 201
	)
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/v1/dispositions" || r.Header.Get("Idempotency-Key") != "key-1" ||
			r.Header.Get("Authorization") != "Bearer tok-123" || r.Header.Get("Content-Type") != "application/json" ||
			string(got) != string(body) {
			t.Errorf("request %s %s key %q body %s", r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), got)
		}
		mu.Lock()
		s := status
		mu.Unlock()
		w.WriteHeader(s)
		if s >= 400 {
			io.WriteString(w, `{"error":{"code":"x","message":"refused"}}`)
		} else {
			io.WriteString(w, `{"id":"1"}`)
		}
	})
	send := c.OutboxSender()
	it := outbox.Item{Key: "key-1", Kind: outbox.KindDisposition, Body: body}
	for _, tt := range []struct {
		status    int
		ok, final bool
	}{
		{201, true, false}, {200, true, false},
		{400, false, true}, {403, false, true}, {404, false, true}, {409, false, true}, {422, false, true},
		{401, false, false}, {408, false, false}, {429, false, false}, {500, false, false}, {503, false, false},
	} {
		mu.Lock()
		status = tt.status
		mu.Unlock()
		err := send(context.Background(), it)
		if tt.ok != (err == nil) || errors.Is(err, outbox.ErrPermanent) != tt.final {
			t.Errorf("status %d: err %v; want ok=%v permanent=%v", tt.status, err, tt.ok, tt.final)
		}
		if err != nil && !strings.Contains(err.Error(), "refused") {
			t.Errorf("status %d: the server's message is lost: %v", tt.status, err)
		}
	}
	if n.Load() != 12 {
		t.Errorf("%d requests; a sender must try once per call", n.Load())
	}
}

// TestOutboxSenderNetworkErrorRetries: an unreachable CRM is "try again", never parked.
func TestOutboxSenderNetworkErrorRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url, WithToken("t"), WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	err = c.OutboxSender()(context.Background(), outbox.Item{Key: "k", Kind: outbox.KindDisposition, Body: []byte(`{}`)})
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("CRM down: %v; want a retryable ErrUnavailable", err)
	}
}

// TestOutboxSenderCallLog: a call log without campaign goes to the user's
// inbound campaign, looked up once.
func TestOutboxSenderCallLog(t *testing.T) {
	var (
		mu        sync.Mutex
		campaigns int
		posted    []DispositionInput
	)
	c, _ := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/campaigns":
			campaigns++
			io.WriteString(w, `{"campaigns":[{"id":"renewal","direction":"outbound"},{"id":"support","direction":"inbound"}]}`)
		case "POST /v1/dispositions":
			var d DispositionInput
			if err := json.NewDecoder(r.Body).Decode(&d); err != nil || r.Header.Get("Idempotency-Key") == "" {
				t.Errorf("call log post: %v, key %q", err, r.Header.Get("Idempotency-Key"))
			}
			posted = append(posted, d)
			w.WriteHeader(201)
			io.WriteString(w, `{}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
	})
	send := c.OutboxSender()
	log := func(key, campaign, code string) error {
		b, _ := json.Marshal(DispositionInput{CampaignID: campaign, Phone: "+81312345678", StartedAt: time.Now(), Code: code})
		return send(context.Background(), outbox.Item{Key: key, Kind: outbox.KindCallLog, Body: b})
	}
	if err := log("a", "", "other"); err != nil {
		t.Fatal(err)
	}
	if err := log("b", "", "other"); err != nil {
		t.Fatal(err)
	}
	if err := log("c", "renewal", "absent"); err != nil {
		t.Fatal(err)
	}
	if err := log("d", "", ""); !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("call log without code: %v", err)
	}
	err := send(context.Background(), outbox.Item{Key: "e", Kind: outbox.KindCallLog, Body: []byte(`{"campaign":"x"}`)})
	if !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("undecodable call log: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if campaigns != 1 || len(posted) != 3 || posted[0].CampaignID != "support" || posted[1].CampaignID != "support" ||
		posted[2].CampaignID != "renewal" {
		t.Errorf("%d campaign lookups, posted %+v", campaigns, posted)
	}
}

// TestOutboxSenderNote: a note is appended to the card once, however often it is sent.
func TestOutboxSenderNote(t *testing.T) {
	var (
		mu    sync.Mutex
		card  = Customer{ID: "42", Name: "佐藤　陽子", Phones: []string{"+81312345678"}, Notes: "定期便は月末希望。"}
		puts  int
		wrong bool
	)
	c, _ := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/customers/42":
			json.NewEncoder(w).Encode(card)
		case "PUT /v1/customers/42":
			var in CustomerInput
			json.NewDecoder(r.Body).Decode(&in)
			puts++
			if in.Name != card.Name || len(in.Phones) != 1 {
				wrong = true
			}
			card.Notes = in.Notes
			json.NewEncoder(w).Encode(card)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no such customer"}}`)
		}
	})
	send := c.OutboxSender()
	at := time.Date(2025, 6, 10, 9, 5, 0, 0, time.UTC)
	note, _ := json.Marshal(CustomerNote{CustomerID: "42", Text: "髪型を変えた。次回は2本。", At: at, Author: "山田 花子"})
	for range 2 {
		if err := send(context.Background(), outbox.Item{Key: "n1", Kind: outbox.KindNote, Body: note}); err != nil {
			t.Fatal(err)
		}
	}
	want := "定期便は月末希望。\n［" + at.Local().Format("2006-01-02 15:04") + " 山田 花子］髪型を変えた。次回は2本。"
	mu.Lock()
	if puts != 1 || card.Notes != want || wrong {
		t.Errorf("%d PUTs, notes %q; want one PUT and %q", puts, card.Notes, want)
	}
	mu.Unlock()
	gone, _ := json.Marshal(CustomerNote{CustomerID: "9", Text: "x", At: at})
	if err := send(context.Background(), outbox.Item{Key: "n2", Kind: outbox.KindNote, Body: gone}); !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("note for an unknown customer: %v", err)
	}
}

// TestOutboxSenderOtherKinds: a recording whose body is not a RecordingItem and
// unknown kinds park without a request.
func TestOutboxSenderOtherKinds(t *testing.T) {
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL.Path) })
	send := c.OutboxSender()
	err := send(context.Background(), outbox.Item{Key: "r", Kind: outbox.KindRecording, Body: []byte("/tmp/x.wav")})
	if !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("recording: %v", err)
	}
	if err := send(context.Background(), outbox.Item{Key: "u", Kind: "fax"}); !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("unknown kind: %v", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests", n.Load())
	}
}
