package crmserver

import (
	"context"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestScreenPopCache: a card fetched while the CRM is up is shown, marked stale,
// after the CRM goes down; a number never fetched fails with the outage; a fresh
// fetch after the CRM returns replaces the stale card.
func TestScreenPopCache(t *testing.T) {
	crm := newTestCRM(t, 100)
	ctx := context.Background()
	cache, err := crmclient.OpenCardCache(filepath.Join(t.TempDir(), "cards.db"), crmclient.CardCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	login := crm.client(t, "agent1")
	fx := addFixtures(t, login)
	cl, err := crmclient.New(crm.srv.URL, crmclient.WithToken(login.Token()), crmclient.WithCardCache(cache),
		crmclient.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}

	card, err := cl.ScreenPop(ctx, "03-1234-5678")
	if err != nil || card.Stale || len(card.Customers) != 1 || card.Customers[0].ID != fx.solo.ID {
		t.Fatalf("fresh pop: %+v, %v", card, err)
	}
	if card.Phone != "+81312345678" {
		t.Errorf("card phone %q, want +81312345678", card.Phone)
	}
	family, err := cl.ScreenPop(ctx, "+81322223333")
	if err != nil || len(family.Customers) != 2 || family.Orders != nil {
		t.Fatalf("shared number: %d customers, orders %v, %v; want a pick list of 2 and no orders", len(family.Customers), family.Orders, err)
	}

	crm.srv.Close() // the CRM goes away
	stale, err := cl.ScreenPop(ctx, "０３－１２３４－５６７８")
	if err != nil || !stale.Stale || stale.StaleReason == "" || len(stale.Customers) != 1 ||
		stale.Customers[0].Name != fx.solo.Name || stale.FetchedAt.Unix() != card.FetchedAt.Unix() {
		t.Fatalf("pop while down: %+v, %v; want the cached card marked stale", stale, err)
	}
	if _, err := cl.ScreenPop(ctx, "06-9999-0000"); err == nil {
		t.Error("never-seen number while down: no error")
	}
	if _, err := cl.ScreenPop(ctx, "not a number"); err == nil {
		t.Error("garbage number: no error")
	}
}

// TestScreenPopCacheWhenCRMHangs: a CRM that accepts the connection and never
// answers runs the pop's deadline out; the cached card must still come back
// (the cache lookup must not reuse the expired context).
func TestScreenPopCacheWhenCRMHangs(t *testing.T) {
	crm := newTestCRM(t, 100)
	cache, err := crmclient.OpenCardCache(filepath.Join(t.TempDir(), "cards.db"), crmclient.CardCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	login := crm.client(t, "agent1")
	addFixtures(t, login)
	hang := make(chan struct{})
	defer close(hang)
	var hanging atomic.Bool
	inner := crm.srv.Config.Handler
	crm.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hanging.Load() {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		inner.ServeHTTP(w, r)
	})
	cl, err := crmclient.New(crm.srv.URL, crmclient.WithToken(login.Token()), crmclient.WithCardCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ScreenPop(context.Background(), "03-1234-5678"); err != nil {
		t.Fatal(err)
	}
	hanging.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	card, err := cl.ScreenPop(ctx, "03-1234-5678")
	if err != nil || !card.Stale || len(card.Customers) != 1 {
		t.Fatalf("pop while the CRM hangs: %+v, %v; want the cached card marked stale", card, err)
	}
}
