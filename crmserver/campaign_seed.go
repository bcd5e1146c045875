package crmserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Demo campaign ids. DemoUsers list them: agent1 works the support line, agent2
// both, and the supervisor sees everything anyway.
const (
	SeedInboundCampaign  = "inbound"
	SeedOutboundCampaign = "renewal"
)

// seedLeadEvery and seedLeadCap pick the outbound list from the seeded
// customers: one in five, at most a few thousand, so that seeding a million
// customers does not spend minutes on leads nobody will call in a demo.
const (
	seedLeadEvery = 5
	seedLeadCap   = 3000
)

// SeedCampaigns returns the demo campaigns: the support line of a mail-order
// health and beauty shop, and an outbound campaign that offers one-off buyers
// the subscription (定期便).
func SeedCampaigns() []crmclient.Campaign {
	cancelReasons := []string{"飲み切れない・使い切れない", "効果を感じない", "価格が高い", "他社に乗り換え", "その他"}
	return []crmclient.Campaign{{
		ID: SeedInboundCampaign, Name: "サポート窓口", Direction: crmclient.Inbound,
		ScriptID: ScriptInboundSupport, CallerID: "+81120961234",
		Disposition: crmclient.DispositionSchema{
			Results: []crmclient.ResultCode{
				{Code: "delivery", Label: "Delivery inquiry", LabelJA: "配送の問い合わせ"},
				{Code: "change", Label: "Change of delivery date or items", LabelJA: "お届け日・内容の変更"},
				{Code: "skip", Label: "Skip the next delivery", LabelJA: "次回お届けのスキップ"},
				{Code: "cancel", Label: "Cancellation", LabelJA: "解約"},
				{Code: "return", Label: "Return or exchange", LabelJA: "返品・交換"},
				{Code: "order", Label: "New order", LabelJA: "新規注文", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
				{Code: "product", Label: "Product question", LabelJA: "商品についての質問"},
				{Code: "callback", Label: "Call back later", LabelJA: "折り返し連絡", Flags: []crmclient.ResultFlag{crmclient.FlagCallback}},
				{Code: "escalate", Label: "Escalation (shop or specialist calls back)", LabelJA: "エスカレーション",
					Flags: []crmclient.ResultFlag{crmclient.FlagEscalate, crmclient.FlagCallback}},
				{Code: "complaint", Label: "Complaint", LabelJA: "苦情", Flags: []crmclient.ResultFlag{crmclient.FlagEscalate}},
				{Code: "no_sales_calls", Label: "No sales calls, ever", LabelJA: "営業電話お断り",
					Flags: []crmclient.ResultFlag{crmclient.FlagRefusedNeverCall}},
				{Code: "other", Label: "Other", LabelJA: "その他"},
			},
			Fields: []crmclient.FormField{
				{Name: "order_id", Label: "Order number", LabelJA: "注文番号", Type: crmclient.FieldText},
				{Name: "new_date", Label: "New delivery date", LabelJA: "新しいお届け日", Type: crmclient.FieldDate,
					Required: true, Codes: []string{"change"}},
				{Name: "cancel_reason", Label: "Reason for cancelling", LabelJA: "解約理由", Type: crmclient.FieldChoice,
					Required: true, Choices: cancelReasons, Codes: []string{"cancel"}},
				{Name: "retention", Label: "Retention offer made", LabelJA: "引き止め提案", Type: crmclient.FieldChoice,
					Choices: []string{"なし", "休止のご案内", "お届け周期の変更", "割引のご案内"}, Codes: []string{"cancel"}},
				{Name: "return_reason", Label: "Reason for the return", LabelJA: "返品理由", Type: crmclient.FieldChoice,
					Required: true, Choices: []string{"破損・不良", "誤配送", "イメージ違い", "その他"}, Codes: []string{"return"}},
			},
		},
	}, {
		ID: SeedOutboundCampaign, Name: "定期便 乗り換えキャンペーン", Direction: crmclient.Outbound,
		ScriptID: ScriptOutboundTeiki, CallerID: "+81345670000",
		Disposition: crmclient.DispositionSchema{
			Results: []crmclient.ResultCode{
				{Code: "success", Label: "Switched to the subscription", LabelJA: "定期便へ乗り換え", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
				{Code: "considering", Label: "Thinking it over", LabelJA: "検討中"},
				{Code: "callback", Label: "Call back at an agreed time", LabelJA: "再架電の約束", Flags: []crmclient.ResultFlag{crmclient.FlagCallback}},
				{Code: "absent", Label: "Not available (someone else answered)", LabelJA: "不在（ご家族が応対）"},
				{Code: "not_interested", Label: "Not interested", LabelJA: "興味なし"},
				{Code: "refused", Label: "Refused — never call again", LabelJA: "今後の勧誘お断り",
					Flags: []crmclient.ResultFlag{crmclient.FlagRefusedNeverCall}},
				{Code: "wrong_number", Label: "Wrong number", LabelJA: "番号違い", Flags: []crmclient.ResultFlag{crmclient.FlagDNC}},
				{Code: "escalate", Label: "Handed to a supervisor", LabelJA: "責任者対応", Flags: []crmclient.ResultFlag{crmclient.FlagEscalate}},
			},
			Fields: []crmclient.FormField{
				{Name: "plan", Label: "Delivery cycle", LabelJA: "お届け周期", Type: crmclient.FieldChoice, Required: true,
					Choices: []string{"毎月", "2か月ごと", "3か月ごと"}, Codes: []string{"success"}},
				{Name: "first_delivery", Label: "First delivery", LabelJA: "初回お届け日", Type: crmclient.FieldDate,
					Required: true, Codes: []string{"success"}},
				{Name: "quantity", Label: "Quantity per delivery", LabelJA: "1回あたりの個数", Type: crmclient.FieldNumber,
					Codes: []string{"success"}},
				{Name: "consent", Label: "Terms read out and accepted", LabelJA: "契約内容の読み上げ・同意",
					Type: crmclient.FieldBool, Required: true, Codes: []string{"success"}},
			},
		},
	}}
}

// seedCampaigns writes the two demo campaigns and the outbound list: every
// seedLeadEvery-th seeded customer by their first number, in the states a list
// is in after a few days of calling (mostly fresh, some retries waiting, a few
// callbacks due, some finished, a few refusals on the DNC list).
func seedCampaigns(ctx context.Context, st *Store, opt SeedOptions) error {
	for _, c := range SeedCampaigns() {
		if _, err := st.CreateCampaign(ctx, c); err != nil {
			return err
		}
	}
	var ids []any
	for i := 0; i < opt.Customers && len(ids) < seedLeadCap; i += seedLeadEvery {
		ids = append(ids, int64(i+1))
	}
	if len(ids) == 0 {
		return nil
	}
	type target struct {
		customer int64
		phone    string
	}
	var list []target
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		rows, err := st.db.QueryContext(ctx, `SELECT customer_id, e164 FROM customer_phones
			WHERE position = 0 AND customer_id IN (?`+strings.Repeat(", ?", len(part)-1)+`) ORDER BY customer_id`, part...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t target
			if err := rows.Scan(&t.customer, &t.phone); err != nil {
				rows.Close()
				return err
			}
			list = append(list, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	r, now := opt.Rand, opt.Now
	pastAgents := []string{"agent2", "sv1"}
	return st.inTx(ctx, func(tx *tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO leads (campaign_id, phone, customer_id, fields, status, attempts,
			last_result, last_attempt_at, next_at, callback_at, callback_scope, callback_agent, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, phone) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		created := now.Add(-72 * time.Hour).Unix()
		for _, t := range list {
			p := products[r.IntN(7)] // subscribable ones come first
			fields, _ := json.Marshal(map[string]string{
				"リスト":    "単品リピーター 2025年上期",
				"おすすめ商品": p.name,
				"定期便価格":  fmt.Sprintf("%d円（通常価格の10%%オフ）", p.price*9/10),
			})
			var (
				status           = crmclient.LeadOpen
				attempts         int
				last             string
				lastAt, cbAt     any
				next             int64
				scope, cbAgent   string
				refusedNeverCall bool
				hoursAgo         = time.Duration(1+r.IntN(60)) * time.Hour
			)
			switch k := r.IntN(100); {
			case k < 70: // fresh
			case k < 82: // unanswered before; some retries due, some later today
				attempts, last = 1+r.IntN(2), []string{"no_answer", "no_answer", "busy"}[r.IntN(3)]
				lastAt, next = now.Add(-hoursAgo).Unix(), now.Add(-hoursAgo+2*time.Hour).Unix()
			case k < 86: // promised callbacks, some due now, some missed, some later
				attempts, last, status = 1, "callback", crmclient.LeadCallback
				at := now.Add(time.Duration(r.IntN(8*60)-4*60) * time.Minute).Truncate(time.Minute)
				lastAt, cbAt, next = now.Add(-hoursAgo).Unix(), at.Unix(), at.Unix()
				scope, cbAgent = string(crmclient.CallbackTeam), pastAgents[r.IntN(len(pastAgents))]
				if r.IntN(2) == 0 {
					scope, cbAgent = string(crmclient.CallbackPersonal), "agent2"
				}
			case k < 94: // finished
				attempts, status = 1+r.IntN(2), crmclient.LeadDone
				last, lastAt = []string{"success", "not_interested", "considering", "success"}[r.IntN(4)], now.Add(-hoursAgo).Unix()
			case k < 97: // gave up
				attempts, status, lastAt = 3, crmclient.LeadFailed, now.Add(-hoursAgo).Unix()
				last = []string{"no_answer", "invalid_number", "unreachable"}[r.IntN(3)]
			default: // refused: on the DNC list for good
				attempts, status, last, lastAt = 1, crmclient.LeadDone, "refused", now.Add(-hoursAgo).Unix()
				refusedNeverCall = true
			}
			if _, err := ins.ExecContext(ctx, SeedOutboundCampaign, t.phone, t.customer, string(fields), status, attempts,
				last, lastAt, next, cbAt, scope, cbAgent, created, now.Unix()); err != nil {
				return err
			}
			if refusedNeverCall {
				if err := addDNC(ctx, tx, t.phone, crmclient.DNCRefusedNeverCall, "今後の勧誘お断り",
					SeedOutboundCampaign, pastAgents[r.IntN(len(pastAgents))], now.Add(-hoursAgo), -1); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
