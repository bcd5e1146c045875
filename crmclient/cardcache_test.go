package crmclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCardCacheBounds(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "state", "cards.db")
	c, err := OpenCardCache(path, CardCacheOptions{MaxEntries: 3, MaxAge: 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %v, %v; want 0600 (it holds customers' data)", fi.Mode(), err)
	}
	for i := range 5 {
		card := Card{Phone: fmt.Sprintf("+8190000000%02d", i), FetchedAt: now.Add(time.Duration(i) * time.Minute),
			Customers: []Customer{{ID: fmt.Sprint(i), Name: "顧客" + fmt.Sprint(i)}}}
		if err := c.Put(ctx, card); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		card, ok := c.Get(ctx, fmt.Sprintf("+8190000000%02d", i))
		if want := i >= 2; ok != want {
			t.Errorf("card %d cached = %v, want %v (only the 3 newest are kept)", i, ok, want)
		}
		if ok && card.Customers[0].Name != "顧客"+fmt.Sprint(i) {
			t.Errorf("card %d = %+v", i, card)
		}
	}
	now = now.Add(25 * time.Hour)
	if _, ok := c.Get(ctx, "+819000000004"); ok {
		t.Error("a card older than MaxAge was returned")
	}
}
