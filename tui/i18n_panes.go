package tui

// msgsPanes holds the strings of the script, FAQ and wrap-up panes.
var msgsPanes = map[string]msg{
	// script.go
	"script.more":      {"… (more: make the pane larger)", "…（続きあり：表示領域を広げてください）"},
	"script.end":       {"End of script — fill in the wrap-up", "スクリプト終了 — 結果を登録してください"},
	"script.checklist": {"Checklist", "確認事項"},
	"script.required":  {" (required)", "（必須）"},

	// faq.go
	"faq.title":       {"FAQ search", "FAQ検索"},
	"faq.placeholder": {"type to search…", "キーワードを入力…"},
	"faq.searching":   {"Searching…", "検索中…"},
	"faq.none":        {"No matching answers", "該当するFAQはありません"},
	"faq.failed":      {"FAQ search failed: %s", "FAQ検索に失敗しました：%s"},
	"faq.unreachable": {"CRM unreachable", "CRMに接続できません"},
	"faq.timeout":     {"CRM did not answer in time", "CRMの応答がありません（タイムアウト）"},
	"faq.nocrm":       {"no CRM configured", "CRMが設定されていません"},
	"faq.hint":        {"↑/↓ pick  enter open  esc close", "↑/↓ 選択  enter 表示  esc 閉じる"},
	"faq.answerhint":  {"esc back to results", "esc 検索結果に戻る"},

	// wrapup.go
	"wrapup.title":         {"Wrap-up", "通話結果の登録"},
	"wrapup.result":        {"Result", "結果"},
	"wrapup.choose":        {"— choose —", "— 選択してください —"},
	"wrapup.details":       {"Details", "詳細"},
	"wrapup.notes":         {"Notes", "メモ"},
	"wrapup.notes.hint":    {"ctrl+j new line", "ctrl+j で改行"},
	"wrapup.callback":      {"Callback", "折り返し"},
	"wrapup.cb.date":       {"Callback date (YYYY-MM-DD)", "折り返し日 (YYYY-MM-DD)"},
	"wrapup.cb.time":       {"Callback time (HH:MM)", "折り返し時刻 (HH:MM)"},
	"wrapup.cb.scope":      {"Who calls back", "折り返し担当"},
	"wrapup.scope.me":      {"Me (personal)", "自分"},
	"wrapup.scope.team":    {"Anyone on the team", "チームの誰か"},
	"wrapup.escalation":    {"Escalation", "エスカレーション"},
	"wrapup.esc.dept":      {"Department", "エスカレーション先の部署"},
	"wrapup.esc.promise":   {"Promised callback (YYYY-MM-DD HH:MM, optional)", "お約束した折り返し日時 (YYYY-MM-DD HH:MM・任意)"},
	"wrapup.yes":           {"Yes", "はい"},
	"wrapup.no":            {"No", "いいえ"},
	"wrapup.done":          {"All fields filled — ctrl+s saves", "入力完了 — ctrl+s で保存"},
	"wrapup.savehint":      {"ctrl+s save  tab next  shift+tab back", "ctrl+s 保存  tab 次へ  shift+tab 戻る"},
	"wrapup.err.result":    {"choose a result", "結果を選択してください"},
	"wrapup.err.required":  {"%s is required", "「%s」を入力してください"},
	"wrapup.err.number":    {"%s must be a number", "「%s」は数字で入力してください"},
	"wrapup.err.date":      {"%s must be a date like 2025-06-20", "「%s」は 2025-06-20 の形式で入力してください"},
	"wrapup.err.datetime":  {"%s must be a date and time like 2025-06-20 14:30", "「%s」は 2025-06-20 14:30 の形式で入力してください"},
	"wrapup.err.time":      {"%s must be a time like 14:30", "「%s」は 14:30 の形式で入力してください"},
	"wrapup.err.choice":    {"%s: pick one of the choices", "「%s」は選択肢から選んでください"},
	"wrapup.err.past":      {"the callback time must be in the future", "折り返し日時は現在より後にしてください"},
	"wrapup.err.dept":      {"name the department to escalate to", "エスカレーション先の部署を入力してください"},
	"wrapup.promised":      {"Callback promised for %s", "折り返しのお約束：%s"},
	"wrapup.err.nophone":   {"%s needs the caller's number, and the caller withheld it", "「%s」には電話番号が必要ですが、非通知の着信でした"},
	"wrapup.err.checklist": {"checklist not complete: %s", "確認事項が未完了です：%s"},
}

func init() { catalogueParts = append(catalogueParts, msgsPanes) }
