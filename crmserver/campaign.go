package crmserver

// Campaigns, leads, the do-not-call list, dispositions and call logs.
//
// A campaign is stored whole as JSON (its form and rules are read together and
// never queried into). Leads are rows that the next-lead query walks in index
// order: (campaign_id, status, next_at, id) serves each of its three tiers —
// the caller's due personal callbacks, the team's, then open leads — so picking
// stays an index seek however long the list is. A lease is two columns on the
// lead, taken with a conditional UPDATE (no SELECT … FOR UPDATE, which SQLite
// lacks): whoever's UPDATE matches "lease_until <= now" owns the lead, on both
// databases, because the row is re-checked under its write lock.
//
// Writes that the desktop sends through its outbox (dispositions, attempts)
// carry an Idempotency-Key; the key and the answer are stored in the same
// transaction as the effect, so a repeat gets the first answer and changes
// nothing (see idempotent).

var campaignMigration = migration{3, "campaigns, leads, DNC, dispositions", `
CREATE TABLE campaigns (
	id         TEXT PRIMARY KEY,
	direction  TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	spec       TEXT NOT NULL,                  -- JSON crmclient.Campaign: read whole, never queried into
	created_at BIGINT NOT NULL
) {{without_rowid}};
CREATE TABLE leads (
	id              {{pk}},
	campaign_id     TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	phone           TEXT NOT NULL,               -- E.164
	customer_id     BIGINT REFERENCES customers (id) ON DELETE SET NULL,
	name            TEXT NOT NULL DEFAULT '',    -- as on the imported list
	name_kana       TEXT NOT NULL DEFAULT '',
	time_zone       TEXT NOT NULL DEFAULT '',    -- '' = the campaign's
	fields          TEXT NOT NULL DEFAULT '{}',  -- JSON object of the list's extra columns
	status          TEXT NOT NULL CHECK (status IN ('open', 'callback', 'done', 'failed', 'dnc')),
	attempts        BIGINT NOT NULL DEFAULT 0,
	last_result     TEXT NOT NULL DEFAULT '',
	last_attempt_at BIGINT,
	next_at         BIGINT NOT NULL DEFAULT 0,   -- not to be handed out before (retry time, callback time, skip)
	callback_at     BIGINT,
	callback_scope  TEXT NOT NULL DEFAULT '',
	callback_agent  TEXT NOT NULL DEFAULT '',
	lease_agent     TEXT NOT NULL DEFAULT '',    -- who holds it or last held it
	lease_until     BIGINT NOT NULL DEFAULT 0,
	skip_reason     TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (campaign_id, phone)
);
CREATE INDEX leads_pick ON leads (campaign_id, status, next_at, id);
-- Partial indexes: most leads are not leased and have no zone of their own, so
-- an import writes neither (queries repeat the WHERE term so the planner may use them).
CREATE INDEX leads_lease ON leads (lease_agent, campaign_id) WHERE lease_agent <> '';
CREATE INDEX leads_zone ON leads (campaign_id, time_zone) WHERE time_zone <> '';
CREATE TABLE dnc (
	e164        TEXT PRIMARY KEY,
	kind        TEXT NOT NULL CHECK (kind IN ('dnc', 'refused_never_call')),
	reason      TEXT NOT NULL DEFAULT '',
	campaign_id TEXT NOT NULL DEFAULT '',
	added_by    TEXT NOT NULL,
	added_at    BIGINT NOT NULL
) {{without_rowid}};
CREATE TABLE dispositions (
	id             {{pk}},
	campaign_id    TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	lead_id        BIGINT REFERENCES leads (id) ON DELETE SET NULL,
	customer_id    BIGINT REFERENCES customers (id) ON DELETE SET NULL,
	call_entry_id  BIGINT,
	phone          TEXT NOT NULL DEFAULT '',
	call_id        TEXT NOT NULL DEFAULT '',
	direction      TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	agent          TEXT NOT NULL,
	started_at     BIGINT NOT NULL,
	duration_s     BIGINT NOT NULL,
	code           TEXT NOT NULL,
	fields         TEXT NOT NULL DEFAULT '{}',
	notes          TEXT NOT NULL DEFAULT '',
	callback_at    BIGINT,
	callback_scope TEXT NOT NULL DEFAULT '',
	escalate_to    TEXT NOT NULL DEFAULT '',
	dnc_added      BIGINT NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL
);
CREATE INDEX dispositions_campaign ON dispositions (campaign_id, created_at);
CREATE INDEX dispositions_lead ON dispositions (lead_id);
CREATE TABLE idempotency_keys (
	idem_key   TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL,
	request    TEXT NOT NULL,                  -- SHA-256 (hex) of user, route and canonical body
	status     BIGINT NOT NULL,
	response   TEXT NOT NULL,
	created_at BIGINT NOT NULL
) {{without_rowid}};
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
`}

var campaignRoutes = []route{
	{"GET /v1/campaigns", anyUser, (*api).listCampaigns},
	{"POST /v1/campaigns", supervisor, (*api).createCampaign},
	{"GET /v1/campaigns/{id}", anyUser, (*api).getCampaign},
	{"PUT /v1/campaigns/{id}", supervisor, (*api).updateCampaign},
	{"POST /v1/campaigns/{id}/leads/next", anyUser, (*api).nextLead},
	{"POST /v1/leads/{id}/release", anyUser, (*api).releaseLead},
	{"POST /v1/leads/{id}/attempts", anyUser, (*api).recordAttempt},
	{"POST /v1/dispositions", anyUser, (*api).dispose},
	{"GET /v1/callbacks", anyUser, (*api).callbacks},
	{"GET /v1/dnc/{e164}", anyUser, (*api).getDNC},
	{"POST /v1/dnc", supervisor, (*api).addDNC},
	{"DELETE /v1/dnc/{e164}", supervisor, (*api).removeDNC},
}
