package crmserver

// The supervisors' event stream, monitor grants and call recordings.

var eventMigration = migration{4, "events, monitor grants, recordings", `SELECT 1`}

var eventRoutes = []route{}
