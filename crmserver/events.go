package crmserver

// The supervisors' event stream, monitor grants and call recordings: what lets a
// supervisor see the floor live, listen in on a call, and review it afterwards.
//
// Events (events_store.go, events_stream.go). Every change a supervisor watches
// is written to the events table in the same transaction as the change itself, so
// the stream can never show a state the database does not have, nor miss one it
// does. GET /v1/events streams the rows after a given id as server-sent events;
// the id is the SSE id, so a reconnect with Last-Event-ID resumes without gaps or
// repeats across a CRM restart. Ids are committed in order: SQLite serialises
// writers, and on PostgreSQL the writer takes an advisory lock before the insert
// (see appendEvent), so a reader never sees id 11 before id 10 and skips 10.
//
// Monitor grants (grants.go). The CRM keeps one Ed25519 key pair in the database;
// a supervisor asks for a grant naming an agent, a call and a mode, and the
// agent's desktop checks it with crmclient.VerifyGrant against the public key.
//
// Recordings (recordings.go). Desktops upload a call's WAV file through their
// outbox with an idempotency key; the file goes to a directory on the server and a
// row describes it.

// eventMigration is step 4. events.ref holds the Call-ID of call events, so that a
// desktop announcing the same phase of a call twice (a retry) makes one event.
var eventMigration = migration{4, "events, monitor grants, recordings", `
CREATE TABLE events (
	id      {{pk}},
	at      BIGINT NOT NULL,
	kind    TEXT NOT NULL,
	agent   TEXT NOT NULL,
	ref     TEXT NOT NULL DEFAULT '',
	payload TEXT NOT NULL                      -- JSON, the SSE data as sent
);
CREATE INDEX events_at ON events (at);
CREATE UNIQUE INDEX events_ref ON events (kind, agent, ref) WHERE ref <> '';
CREATE TABLE monitor_keys (
	id          BIGINT PRIMARY KEY CHECK (id = 1),  -- one key pair per CRM
	key_id      TEXT NOT NULL,
	public_key  {{blob}} NOT NULL,
	private_key {{blob}} NOT NULL,             -- Ed25519 seed; never leaves the server
	created_at  BIGINT NOT NULL
);
CREATE TABLE recordings (
	id          {{pk}},
	idem_key    TEXT NOT NULL UNIQUE,          -- the upload's Idempotency-Key
	call_id     TEXT NOT NULL,
	customer_id TEXT NOT NULL DEFAULT '',
	agent       TEXT NOT NULL,
	bytes       BIGINT NOT NULL,
	sha256      TEXT NOT NULL,
	path        TEXT NOT NULL,                 -- absolute path of the WAV file
	created_at  BIGINT NOT NULL
);
CREATE INDEX recordings_call ON recordings (call_id);
CREATE INDEX recordings_agent ON recordings (agent, id);
`}

var eventRoutes = []route{
	{"GET /v1/events", supervisor, (*api).streamEvents},
	{"POST /v1/me/calls", anyUser, (*api).postCallEvent},
	{"GET /v1/monitor/key", anyUser, (*api).monitorKey},
	{"POST /v1/monitor/grants", supervisor, (*api).createGrant},
	{"POST /v1/recordings", anyUser, (*api).uploadRecording},
	{"GET /v1/recordings", anyUser, (*api).listRecordings},
	{"GET /v1/recordings/{id}/audio", anyUser, (*api).recordingAudio},
}

// untimedRoutes get no request timeout from wrap: a stream lasts as long as the
// supervisor watches, and a recording upload or download as long as the line
// needs. They bound their database work and their idle time themselves.
var untimedRoutes = map[string]bool{
	"GET /v1/events":                true,
	"POST /v1/recordings":           true,
	"GET /v1/recordings/{id}/audio": true,
}
