// Package screenpop measures the screen pop end to end: a caller's INVITE
// reaches the operator's sip.Phone, the desktop (package tui, in a real
// Bubble Tea program rendering 160×48) looks the number up in the reference
// CRM over loopback HTTP, and the card is rendered. The time is taken from
// the phone's incoming event (stamped when the INVITE is handled) to the
// first frame that shows the card (the desktop's "card shown" log line).
//
// In the same run it measures the bare lookup the pop makes
// (crmclient.ScreenPop, HTTP + SQL) for the same numbers, so the figures
// read as "the desktop adds X to what the CRM costs".
//
//	OPDESK_BENCH_CUSTOMERS=1000000 go test -run '^$' -bench . -benchtime=300x ./test/bench/screenpop
//
// OPDESK_BENCH_DB=PATH reuses a database seeded beforehand with
// `opdesk crm seed --db sqlite:PATH --customers N` (seeding 1 M takes minutes).
package screenpop

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	_ "modernc.org/sqlite"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/tui"
)

// cardLog catches the desktop's "card shown" records.
type cardLog struct {
	mu    sync.Mutex
	shown chan time.Duration
}

func (h *cardLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *cardLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *cardLog) WithGroup(string) slog.Handler            { return h }
func (h *cardLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "card shown" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "elapsed" {
			select {
			case h.shown <- a.Value.Duration():
			default:
			}
		}
		return true
	})
	return nil
}

func BenchmarkInviteToCard(b *testing.B) {
	ctx := context.Background()
	dbPath := seededDB(b)
	st, err := crmserver.Open(ctx, "sqlite:"+dbPath)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: st.Handler()}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	crmURL := "http://" + ln.Addr().String()

	client := login(b, crmURL)
	baseline := login(b, crmURL)
	numbers := samplePhones(b, dbPath, 2000)

	op := newPhone(b, "operator", 30000)
	caller := newPhone(b, "caller", 31000)
	events, unsub := op.Subscribe(64)
	defer unsub()

	h := &cardLog{shown: make(chan time.Duration, 1)}
	opts := tui.Options{Phone: op, CRM: client, Lang: tui.LangJA, Region: "JP",
		Agent: crmclient.User{Name: "agent1", DisplayName: "山田 花子"}, Log: slog.New(h)}
	prog := tea.NewProgram(tui.New(opts), tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithWindowSize(160, 48), tea.WithoutSignals())
	done := make(chan struct{})
	go func() { _, _ = prog.Run(); close(done) }()
	defer func() { prog.Quit(); <-done }()
	time.Sleep(300 * time.Millisecond) // the program is up and subscribed

	target := "sip:operator@" + op.Addr()
	var pop, bare []time.Duration
	r := rand.New(rand.NewPCG(5, 6))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		num := numbers[r.IntN(len(numbers))]
		id, err := caller.DialAs(ctx, target, num)
		if err != nil {
			b.Fatal(err)
		}
		select {
		case d := <-h.shown:
			pop = append(pop, d)
		case <-time.After(5 * time.Second):
			b.Fatalf("call %d from %s: no card within 5 s", i, num)
		}
		b.StopTimer()
		if _, err := caller.Hangup(id); err != nil {
			b.Fatal(err)
		}
		waitEnded(b, events)
		t0 := time.Now()
		if _, err := baseline.ScreenPop(ctx, num); err != nil {
			b.Fatal(err)
		}
		bare = append(bare, time.Since(t0))
		b.StartTimer()
	}
	b.StopTimer()
	report(b, "pop", pop)
	report(b, "lookup", bare)
}

func report(b *testing.B, name string, d []time.Duration) {
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

func waitEnded(b *testing.B, events <-chan sip.Event) {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == sip.EvEnded {
				return
			}
		case <-deadline:
			b.Fatal("the operator's call did not end")
		}
	}
}

func newPhone(b *testing.B, user string, rtp int) *sip.Phone {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	p, err := sip.New(sip.Config{User: user, Listen: addr, Input: "null", Output: "null",
		RTPPortMin: rtp, RTPPortMax: rtp + 998})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func login(b *testing.B, url string) *crmclient.Client {
	c, err := crmclient.New(url, crmclient.WithDefaultRegion("JP"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Login(context.Background(), "agent1", "agent1-demo"); err != nil {
		b.Fatal(err)
	}
	return c
}

// seededDB returns OPDESK_BENCH_DB, or a new database seeded with
// OPDESK_BENCH_CUSTOMERS (default 20 000) customers.
func seededDB(b *testing.B) string {
	if p := os.Getenv("OPDESK_BENCH_DB"); p != "" {
		return p
	}
	n, err := strconv.Atoi(os.Getenv("OPDESK_BENCH_CUSTOMERS"))
	if err != nil || n <= 0 {
		n = 20_000
	}
	path := filepath.Join(b.TempDir(), "crm.db")
	st, err := crmserver.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	t0 := time.Now()
	if err := crmserver.Seed(context.Background(), st, crmserver.SeedOptions{Customers: n, Rand: rand.New(rand.NewPCG(1, 1))}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d customers in %v", n, time.Since(t0).Round(time.Second))
	return path
}

// samplePhones returns n random numbers from the database, in the national
// form a Japanese caller ID shows ("0312345678").
func samplePhones(b *testing.B, path string, n int) []string {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT e164 FROM customer_phones ORDER BY random() LIMIT ?`, n)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			b.Fatal(err)
		}
		if len(e) > 3 && e[:3] == "+81" {
			out = append(out, "0"+e[3:])
		}
	}
	if len(out) == 0 {
		b.Fatal("no Japanese numbers in the database")
	}
	return out
}
