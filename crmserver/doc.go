// Package crmserver is the reference CRM: it implements the contract of package
// crmclient (its OpenAPI document and Go types) over SQLite, so that opdesk works
// out of the box and so that the contract is proven by a real implementation.
//
// Layers, one file prefix each: store*.go own the SQL (Open, migrations, users and
// sessions, customers, orders and calls); handler*.go own HTTP (routes, auth, JSON
// decoding and errors); seed*.go generate demo data.
//
// What is hand-written, and why: the route table in handler.go and the OpenAPI
// document in crmclient are both written by hand and kept equal by a test, rather
// than one being generated from the other. The document is the promise to other CRM
// implementations and is reviewed as such; the handlers are plain net/http so that
// the security-relevant parts (body limits, token checks, error mapping) are visible
// in a few hundred lines instead of inside a framework. SQL is hand-written too, in
// SQLite's dialect; the PostgreSQL backend will get its own store files.
//
// Security: passwords are stored as bcrypt hashes; bearer tokens are 32 random bytes
// of which only the SHA-256 is stored; request bodies are capped at 1 MiB; unknown
// JSON fields are refused; SQL always uses bound parameters. Logs carry method,
// route, status, duration and user name, never bodies, query strings or headers,
// because those hold passwords, tokens and customers' phone numbers.
package crmserver
