package crmserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// testClock is a settable clock for leases, calling windows and retry times.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// addAgent creates an agent working on campaigns and returns a client logged in
// as them, with a timeout that tolerates a busy 2-core machine.
func addAgent(t testing.TB, crm *testCRM, name string, campaigns ...string) *crmclient.Client {
	t.Helper()
	ctx := context.Background()
	pw := name + "-password"
	if _, err := crm.st.CreateUser(ctx, NewUser{Name: name, DisplayName: "担当 " + name, Role: crmclient.RoleAgent,
		Password: pw, Campaigns: campaigns}); err != nil {
		t.Fatal(err)
	}
	cl, err := crmclient.New(crm.srv.URL, crmclient.WithHTTPClient(crm.srv.Client()), crmclient.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Login(ctx, name, pw); err != nil {
		t.Fatal(err)
	}
	return cl
}

// testCampaign is a small outbound campaign with every flag and field type.
func testCampaign(id string) crmclient.Campaign {
	return crmclient.Campaign{ID: id, Name: "テスト " + id, Direction: crmclient.Outbound,
		Disposition: crmclient.DispositionSchema{
			Results: []crmclient.ResultCode{
				{Code: "sale", Label: "Sale", LabelJA: "成約", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
				{Code: "later", Label: "Call back", LabelJA: "再架電", Flags: []crmclient.ResultFlag{crmclient.FlagCallback}},
				{Code: "no", Label: "Not interested", LabelJA: "興味なし"},
				{Code: "never", Label: "Refused", LabelJA: "お断り", Flags: []crmclient.ResultFlag{crmclient.FlagRefusedNeverCall}},
				{Code: "dnc", Label: "Wrong number", LabelJA: "番号違い", Flags: []crmclient.ResultFlag{crmclient.FlagDNC}},
				{Code: "boss", Label: "Escalate", LabelJA: "上長", Flags: []crmclient.ResultFlag{crmclient.FlagEscalate}},
			},
			Fields: []crmclient.FormField{
				{Name: "plan", Label: "Plan", LabelJA: "コース", Type: crmclient.FieldChoice, Required: true,
					Choices: []string{"毎月", "隔月"}, Codes: []string{"sale"}},
				{Name: "qty", Label: "Quantity", LabelJA: "個数", Type: crmclient.FieldNumber},
				{Name: "start", Label: "Start", LabelJA: "開始日", Type: crmclient.FieldDate},
				{Name: "visit", Label: "Visit", LabelJA: "訪問日時", Type: crmclient.FieldDateTime},
				{Name: "ok", Label: "Consent", LabelJA: "同意", Type: crmclient.FieldBool},
				{Name: "memo", Label: "Memo", LabelJA: "メモ", Type: crmclient.FieldText},
			},
		}}
}

// mustCampaign creates a campaign in the store.
func mustCampaign(t testing.TB, st *Store, c crmclient.Campaign) crmclient.Campaign {
	t.Helper()
	c, err := st.CreateCampaign(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testPhone is the i-th of numbers 03-1xxx-xxxx, which the seed never uses.
func testPhone(i int) string { return fmt.Sprintf("+8131%07d", i) }

// importNumbers adds n nameless leads with testPhone(from…from+n-1) and returns their ids.
func importNumbers(t testing.TB, st *Store, campaign string, from, n int) []string {
	t.Helper()
	rows := make([]LeadRow, n)
	for i := range rows {
		rows[i] = LeadRow{Line: i + 1, Phone: testPhone(from + i)}
	}
	res, err := st.ImportLeads(context.Background(), campaign, rows)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i, r := range res {
		if r.Status != LeadAdded {
			t.Fatalf("import line %d: %s %s", r.Line, r.Status, r.Reason)
		}
		ids[i] = r.LeadID
	}
	return ids
}

var keySeq atomic.Int64

// newKey is a fresh idempotency key.
func newKey() string { return fmt.Sprintf("test-key-%d-%d", time.Now().UnixNano(), keySeq.Add(1)) }

// apiCode returns the status, code and message of a CRM error (0 for nil, -1
// for an error that is not an answer of the CRM).
func apiCode(err error) (int, string, string) {
	var ae *crmclient.APIError
	switch {
	case err == nil:
		return 0, "", ""
	case errors.As(err, &ae):
		return ae.Status, ae.Code, ae.Message
	}
	return -1, "", err.Error()
}
