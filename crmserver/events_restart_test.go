package crmserver

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

// Tests of the event stream's guarantees over time: restarts, concurrent
// writers, pruning; and the helpers that serve a store as `opdesk crm serve` does.

// TestFollowEventsAcrossRestart: FollowEvents carries on over a CRM restart on the
// same database and address, and delivers every event exactly once, in order —
// those written while the CRM was down included.
func TestFollowEventsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	st1 := openSeeded(t, dsn)
	srv1, url := serveReal(t, st1.Handler())
	sv := loginAt(t, url, "sv1", "")
	agent := loginAt(t, url, "agent1", "")

	var mu sync.Mutex
	var got []int64
	readies := 0
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	seen := make(chan struct{}, 100)
	go func() {
		done <- sv.FollowEvents(fctx, crmclient.EventsFromNow, func(e crmclient.Event) error {
			mu.Lock()
			if e.Kind == crmclient.EventReady {
				readies++
			} else {
				got = append(got, e.ID)
			}
			mu.Unlock()
			seen <- struct{}{}
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("FollowEvents = %v, want context.Canceled", err)
		}
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			mu.Lock()
			done := ok()
			mu.Unlock()
			if done {
				return
			}
			select {
			case <-seen:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("timed out waiting for %s (events %v, %d readies)", what, got, readies)
			}
		}
	}
	waitFor("ready", func() bool { return readies == 1 })

	put := func(cl *crmclient.Client, s crmclient.Status) {
		t.Helper()
		if _, err := cl.PutAgentState(ctx, crmclient.AgentStateRequest{State: s}); err != nil {
			t.Fatal(err)
		}
	}
	put(agent, crmclient.StatusReady)
	put(agent, crmclient.StatusOnCall)
	put(agent, crmclient.StatusACW)
	waitFor("3 events", func() bool { return len(got) == 3 })

	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if err := srv1.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	st1.Close()

	st2, err := Open(ctx, dsn, WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	for _, s := range []crmclient.Status{crmclient.StatusReady, crmclient.StatusOnCall} { // while the CRM is down
		if _, err := st2.SetAgentState(ctx, "agent2", crmclient.AgentStateRequest{State: s}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the client fail a reconnect or two
	serveRealAt(t, strings.TrimPrefix(url, "http://"), st2.Handler())
	waitFor("reconnect", func() bool { return readies == 2 })
	agent = loginAt(t, url, "agent1", agent.Token()) // the session survived in the database
	put(agent, crmclient.StatusReady)
	put(agent, crmclient.StatusOnCall)
	waitFor("7 events", func() bool { return len(got) >= 7 })

	all, err := st2.eventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range all {
		want = append(want, e.id)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, stored %v", got, want)
	}
}

// openSeeded opens a store at dsn with the demo users.
func openSeeded(t *testing.T, dsn string) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, dsn, WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, st, SeedOptions{Rand: rand.New(rand.NewPCG(7, 11)), Now: seedNow}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// serveReal serves h with NewHTTPServer on a loopback port, as `opdesk crm serve`
// does, and returns the server and its URL.
// configure, if given, changes the server before it starts.
func serveReal(t *testing.T, h http.Handler, configure ...func(*http.Server)) (*http.Server, string) {
	t.Helper()
	return serveRealAt(t, "127.0.0.1:0", h, configure...)
}

func serveRealAt(t *testing.T, addr string, h http.Handler, configure ...func(*http.Server)) (*http.Server, string) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the previous server's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(ln.Addr().String(), h)
	for _, f := range configure {
		f(srv)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, "http://" + ln.Addr().String()
}

// loginAt returns a client of the CRM at url, logged in as a demo user, or using
// token when one is given.
func loginAt(t *testing.T, url, user, token string) *crmclient.Client {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cl, err := crmclient.New(url, crmclient.WithHTTPClient(hc), crmclient.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	if token == "" {
		if _, err := cl.Login(context.Background(), user, demoPassword(t, user)); err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
	}
	return cl
}

// TestEventOrderUnderConcurrentWriters: with many writers at once, a stream that
// reads while they commit still delivers every event exactly once: ids become
// visible in order (on PostgreSQL thanks to the advisory lock in appendEvent).
func TestEventOrderUnderConcurrentWriters(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	tap := tapEvents(t, false, crm.client(t, "sv1"), crmclient.EventsFromNow)
	tap.ready(t)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			user := []string{"agent1", "agent2", "sv1", "agent1"}[w]
			for i := range each {
				s := []crmclient.Status{crmclient.StatusReady, crmclient.StatusOnCall, crmclient.StatusACW}[i%3]
				if _, err := crm.st.SetAgentState(ctx, user, crmclient.AgentStateRequest{State: s}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var got []int64
	for range writers * each {
		got = append(got, tap.nextKind(t, 10*time.Second).ID)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := crm.st.eventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range all {
		want = append(want, e.id)
	}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v\nstored    %v", got, want)
	}
}

// TestEventsPrunedAndResumeBeyondHead: events older than the retention are
// deleted now and then by the writers; a resume from an id the database never
// reached starts at its newest event.
func TestEventsPrunedAndResumeBeyondHead(t *testing.T) {
	now := seedNow
	crm := newTestCRM(t, 0, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	put := func() {
		t.Helper()
		if _, err := crm.st.SetAgentState(ctx, "agent1", crmclient.AgentStateRequest{State: crmclient.StatusReady}); err != nil {
			t.Fatal(err)
		}
	}
	put() // id 1, old by the time of the next writes
	now = now.Add(eventRetention + time.Hour)
	if _, err := crm.st.db.ExecContext(ctx, `INSERT INTO events (id, at, kind, agent, payload) VALUES (?, ?, 'agent_state', 'agent2', '{}')`,
		pruneEvery-1, now.Unix()); err != nil {
		t.Fatal(err)
	}
	if err := crm.st.syncIDs(ctx, "events"); err != nil {
		t.Fatal(err)
	}
	put() // id pruneEvery: prunes
	evs, err := crm.st.eventsAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].id != pruneEvery-1 || evs[1].id != pruneEvery {
		t.Errorf("after pruning: %+v", evs)
	}

	tap := tapEvents(t, false, crm.client(t, "sv1"), 1_000_000)
	if r := tap.ready(t); r.After != pruneEvery {
		t.Errorf("resume beyond the newest event starts after %d, want %d", r.After, pruneEvery)
	}
}
