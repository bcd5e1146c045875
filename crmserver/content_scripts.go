package crmserver

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/opdesk/opdesk/crmclient"
)

// Script limits. A script is read during a call; a node longer than a screen or
// more choices than number keys is a script that needs rewriting, not storing.
const (
	maxScriptNodes     = 200
	maxScriptChoices   = 9 // the operator picks with 1–9
	maxScriptChecklist = 30
	maxScriptName      = 100
	maxNodeTitle       = 100
	maxNodeBody        = 10000
	maxChoiceLabel     = 100
	maxChecklistLabel  = 200
)

// scriptID is the form of script, node and checklist ids: they appear in URLs and
// in other records (a campaign names its script), so they are plain and short.
var scriptID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// scriptBody is what the body column holds.
type scriptBody struct {
	Start     string                    `json:"start"`
	Nodes     []crmclient.ScriptNode    `json:"nodes"`
	Checklist []crmclient.ChecklistItem `json:"checklist"`
}

// Scripts returns every script, by id.
func (s *Store) Scripts(ctx context.Context) ([]crmclient.Script, error) {
	return s.queryScripts(ctx, `SELECT id, name, body, updated_at FROM scripts ORDER BY id`)
}

// Script returns one script, or ErrNotFound.
func (s *Store) Script(ctx context.Context, id string) (crmclient.Script, error) {
	list, err := s.queryScripts(ctx, `SELECT id, name, body, updated_at FROM scripts WHERE id = ?`, id)
	if err != nil {
		return crmclient.Script{}, err
	}
	if len(list) == 0 {
		return crmclient.Script{}, fmt.Errorf("script %q: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// CreateScript validates and stores a new script under in.ID.
func (s *Store) CreateScript(ctx context.Context, in crmclient.ScriptInput) (crmclient.Script, error) {
	if err := validateScript(&in); err != nil {
		return crmclient.Script{}, err
	}
	body, _ := json.Marshal(scriptBody{in.Start, in.Nodes, in.Checklist})
	_, err := s.db.ExecContext(ctx, `INSERT INTO scripts (id, name, body, updated_at) VALUES (?, ?, ?, ?)`,
		in.ID, in.Name, string(body), s.now().Unix())
	if isUniqueViolation(err) {
		return crmclient.Script{}, invalidf("script %q already exists; change it with PUT /v1/scripts/%s", in.ID, in.ID)
	}
	if err != nil {
		return crmclient.Script{}, fmt.Errorf("create script: %w", err)
	}
	return s.Script(ctx, in.ID)
}

// UpdateScript replaces a script. in.ID may be empty; otherwise it must be id.
func (s *Store) UpdateScript(ctx context.Context, id string, in crmclient.ScriptInput) (crmclient.Script, error) {
	if _, err := s.Script(ctx, id); err != nil {
		return crmclient.Script{}, err // a wrong path is a 404, whatever the body says
	}
	if in.ID != "" && in.ID != id {
		return crmclient.Script{}, invalidf("id %q in the body does not match %q in the path; a script cannot be renamed", in.ID, id)
	}
	in.ID = id
	if err := validateScript(&in); err != nil {
		return crmclient.Script{}, err
	}
	body, _ := json.Marshal(scriptBody{in.Start, in.Nodes, in.Checklist})
	res, err := s.db.ExecContext(ctx, `UPDATE scripts SET name = ?, body = ?, updated_at = ? WHERE id = ?`,
		in.Name, string(body), s.now().Unix(), id)
	if err != nil {
		return crmclient.Script{}, fmt.Errorf("update script: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return crmclient.Script{}, fmt.Errorf("script %q: %w", id, ErrNotFound)
	}
	return s.Script(ctx, id)
}

func (s *Store) queryScripts(ctx context.Context, query string, args ...any) ([]crmclient.Script, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("scripts: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Script{}
	for rows.Next() {
		var sc crmclient.Script
		var b scriptBody
		var updated int64
		if err := rows.Scan(&sc.ID, &sc.Name, jsonColumn{&b}, &updated); err != nil {
			return nil, fmt.Errorf("scripts: %w", err)
		}
		sc.Start, sc.Nodes, sc.Checklist, sc.UpdatedAt = b.Start, b.Nodes, b.Checklist, unixTime(updated)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// validateScript trims the texts, fills empty lists and checks the script is a
// graph the desktop can walk: ids well-formed and unique, the start node and every
// choice's target present. Messages name the place to fix ("nodes[2].choices[0].next").
func validateScript(in *crmclient.ScriptInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if !scriptID.MatchString(in.ID) {
		return invalidf("id %q must be 1–64 lower-case letters, digits, '-' or '_', starting with a letter or digit", in.ID)
	}
	if in.Name == "" {
		return invalidf("name is required")
	}
	if err := checkText("name", in.Name, maxScriptName); err != nil {
		return err
	}
	if len(in.Nodes) == 0 {
		return invalidf("a script needs at least one node")
	}
	if len(in.Nodes) > maxScriptNodes {
		return invalidf("%d nodes; at most %d are allowed", len(in.Nodes), maxScriptNodes)
	}
	if in.Checklist == nil {
		in.Checklist = []crmclient.ChecklistItem{}
	}
	if len(in.Checklist) > maxScriptChecklist {
		return invalidf("%d checklist items; at most %d are allowed", len(in.Checklist), maxScriptChecklist)
	}
	nodes := map[string]int{}
	for i := range in.Nodes {
		n := &in.Nodes[i]
		at := fmt.Sprintf("nodes[%d]", i)
		n.Title = strings.TrimSpace(n.Title)
		if !scriptID.MatchString(n.ID) {
			return invalidf("%s.id %q must be 1–64 lower-case letters, digits, '-' or '_'", at, n.ID)
		}
		if j, dup := nodes[n.ID]; dup {
			return invalidf("%s.id %q is also the id of nodes[%d]", at, n.ID, j)
		}
		nodes[n.ID] = i
		if n.Title == "" {
			return invalidf("%s.title is required", at)
		}
		if err := checkText(at+".title", n.Title, maxNodeTitle); err != nil {
			return err
		}
		if err := checkText(at+".body", n.Body, maxNodeBody); err != nil {
			return err
		}
		if n.Choices == nil {
			n.Choices = []crmclient.ScriptChoice{}
		}
		if len(n.Choices) > maxScriptChoices {
			return invalidf("%s has %d choices; at most %d (the keys 1–9)", at, len(n.Choices), maxScriptChoices)
		}
		for j := range n.Choices {
			c := &n.Choices[j]
			c.Label = strings.TrimSpace(c.Label)
			if c.Label == "" {
				return invalidf("%s.choices[%d].label is required", at, j)
			}
			if err := checkText(fmt.Sprintf("%s.choices[%d].label", at, j), c.Label, maxChoiceLabel); err != nil {
				return err
			}
		}
	}
	if _, ok := nodes[in.Start]; !ok {
		return invalidf("start %q is not a node of this script", in.Start)
	}
	for i, n := range in.Nodes {
		for j, c := range n.Choices {
			if _, ok := nodes[c.Next]; !ok {
				return invalidf("nodes[%d].choices[%d].next %q (choice %q of node %q) is not a node of this script",
					i, j, c.Next, c.Label, n.ID)
			}
		}
	}
	items := map[string]bool{}
	for i := range in.Checklist {
		c := &in.Checklist[i]
		at := fmt.Sprintf("checklist[%d]", i)
		c.Label, c.LabelJA = strings.TrimSpace(c.Label), strings.TrimSpace(c.LabelJA)
		if !scriptID.MatchString(c.ID) {
			return invalidf("%s.id %q must be 1–64 lower-case letters, digits, '-' or '_'", at, c.ID)
		}
		if items[c.ID] {
			return invalidf("%s.id %q is used twice", at, c.ID)
		}
		items[c.ID] = true
		if c.Label == "" {
			return invalidf("%s.label is required", at)
		}
		if err := checkText(at+".label", c.Label, maxChecklistLabel); err != nil {
			return err
		}
		if err := checkText(at+".label_ja", c.LabelJA, maxChecklistLabel); err != nil {
			return err
		}
	}
	return nil
}
