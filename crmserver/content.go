package crmserver

import (
	"context"
	"fmt"
)

// Scripts, FAQ and hints: the talk content the desktop shows beside a call, and the
// bigram index that makes customer and FAQ search fast on Japanese text.
//
// Content is small (tens of scripts, hundreds of FAQ entries) and read far more
// often than written; supervisors write it, agents only read. The files:
// content_faq.go (FAQ store and search), content_scripts.go (scripts and their
// validation), content_hints.go (hint rules, hints, co-purchase table),
// content_http.go (handlers), content_seed.go (the demo shop's content).

var contentMigration = migration{2, "search index, scripts, FAQ, hints", `
CREATE TABLE customer_grams (
	gram TEXT NOT NULL,                       -- 2 characters of a folded name or reading (search.go)
	id   BIGINT NOT NULL,                     -- customers.id
	PRIMARY KEY (gram, id)
) {{without_rowid}};
` + customerGramsBackfill + `

CREATE TABLE faq (
	id         {{pk}},
	question   TEXT NOT NULL,
	answer     TEXT NOT NULL,                 -- Markdown
	tags       TEXT NOT NULL DEFAULT '[]',    -- JSON array of strings
	category   TEXT NOT NULL DEFAULT '',
	search_key TEXT NOT NULL,                 -- folded fields (faqKey)
	updated_at BIGINT NOT NULL
);
CREATE TABLE faq_grams (
	gram TEXT NOT NULL,
	id   BIGINT NOT NULL,                     -- faq.id
	PRIMARY KEY (gram, id)
) {{without_rowid}};

CREATE TABLE scripts (
	id         TEXT PRIMARY KEY,              -- chosen by the author: "inbound-support"
	name       TEXT NOT NULL,
	body       TEXT NOT NULL,                 -- JSON {start, nodes, checklist}, validated on write
	updated_at BIGINT NOT NULL
);

CREATE TABLE hint_rules (
	position    BIGINT PRIMARY KEY,           -- evaluation and display order
	id          TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL CHECK (kind IN ('intent', 'cross_sell')),
	cond        TEXT NOT NULL,                -- one of crmclient.Cond*; unknown ones are skipped
	days        BIGINT NOT NULL,
	min_percent BIGINT NOT NULL DEFAULT 0,
	text_en     TEXT NOT NULL,
	text_ja     TEXT NOT NULL
);
-- "Customers who bought A bought B within window_days": computed from all orders by
-- RecomputeCoPurchases, read by every hints request.
CREATE TABLE co_purchases (
	a_sku       TEXT NOT NULL,
	b_sku       TEXT NOT NULL,
	a_name      TEXT NOT NULL,
	b_name      TEXT NOT NULL,
	buyers_a    BIGINT NOT NULL,              -- customers whose first A is at least window_days old
	buyers_ab   BIGINT NOT NULL,              -- of those, how many bought B within window_days of it
	window_days BIGINT NOT NULL,
	PRIMARY KEY (a_sku, b_sku)
) {{without_rowid}};
`}

// customerGramsBackfill indexes the customers written before the index existed, in
// SQL both databases run alike: every 2-character window of the search key that
// does not straddle the name/reading separator, as bigrams(searchKey(…)) in Go.
const customerGramsBackfill = `
WITH RECURSIVE pos (id, k, i) AS (
	SELECT id, search_key, 1 FROM customers
	UNION ALL
	SELECT id, k, i + 1 FROM pos WHERE i + 2 <= length(k)
)
INSERT INTO customer_grams (gram, id)
SELECT DISTINCT substr(k, i, 2), id FROM pos
WHERE length(substr(k, i, 2)) = 2 AND instr(substr(k, i, 2), '` + searchSep + `') = 0;`

var contentRoutes = []route{
	{"GET /v1/faq", anyUser, (*api).searchFAQ},
	{"POST /v1/faq", supervisor, (*api).createFAQ},
	{"GET /v1/faq/{id}", anyUser, (*api).getFAQ},
	{"PUT /v1/faq/{id}", supervisor, (*api).updateFAQ},
	{"GET /v1/scripts", anyUser, (*api).listScripts},
	{"POST /v1/scripts", supervisor, (*api).createScript},
	{"GET /v1/scripts/{id}", anyUser, (*api).getScript},
	{"PUT /v1/scripts/{id}", supervisor, (*api).updateScript},
	{"GET /v1/customers/{id}/hints", anyUser, (*api).hints},
	{"GET /v1/hint-rules", anyUser, (*api).hintRules},
	{"PUT /v1/hint-rules", supervisor, (*api).putHintRules},
}

// seedContent writes the demo scripts, FAQ and hint rules, and computes the
// co-purchase table from the orders Seed has just written. Content that is already
// there is kept, so seeding twice does not duplicate the FAQ.
func seedContent(ctx context.Context, st *Store, opt SeedOptions) error {
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM faq`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		for _, f := range seedFAQ {
			if _, err := st.CreateFAQ(ctx, f); err != nil {
				return fmt.Errorf("faq %q: %w", f.Question, err)
			}
		}
	}
	for _, s := range seedScripts() {
		if _, err := st.Script(ctx, s.ID); err == nil {
			continue
		}
		if _, err := st.CreateScript(ctx, s); err != nil {
			return fmt.Errorf("script %s: %w", s.ID, err)
		}
	}
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hint_rules`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := st.PutHintRules(ctx, DefaultHintRules()); err != nil {
			return err
		}
	}
	if err := st.recomputeCoPurchases(ctx, opt.Now); err != nil {
		return err
	}
	if st.db.d == postgresDialect {
		// Fresh tables have no statistics until autovacuum's next round; the search's
		// join order depends on them.
		if _, err := st.db.ExecContext(ctx, `ANALYZE customer_grams`); err != nil {
			return err
		}
	}
	return nil
}
