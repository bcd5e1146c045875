package crmserver

import "github.com/opdesk/opdesk/crmclient"

// The demo shop's talk content: operator-facing FAQ, two scripts and the hint rules,
// written for the health and beauty mail-order shop of seed_data.go (育毛ローション,
// シャンプー, 青汁, サプリ, mostly sold as 定期便). Answers are for operators: what to
// say and what to do in the admin screen.

// seedFAQ lists the questions asked most first: an empty FAQ search shows this order.
var seedFAQ = []crmclient.FAQInput{
	{Question: "配送日時の変更はできますか？", Category: "配送", Tags: []string{"delivery", "配送", "日時指定"},
		Answer: "**発送前**であれば管理画面の「注文詳細 → お届け日時」から変更できます。\n\n" +
			"- 発送済みの場合は、伝票番号をお伝えし、配送会社へ直接ご連絡いただくようご案内します。\n" +
			"- 日時指定は注文日の**3日後から14日後**まで。時間帯は午前／14-16時／16-18時／18-20時／19-21時。\n" +
			"- 定期便の場合は「次回のみ」か「以降すべて」かを必ず確認してください。"},
	{Question: "定期便を1回お休み（スキップ）したい", Category: "定期便", Tags: []string{"subscription", "skip", "スキップ"},
		Answer: "次回お届け予定日の**5日前まで**なら、管理画面の「定期便 → 次回スキップ」で承れます。\n\n" +
			"- スキップしても定期便の割引・特典は継続します（お客様にもお伝えください）。\n" +
			"- 5日前を過ぎている場合は発送準備に入っているため、受け取り後の返品ではなく**次々回の調整**をご提案します。\n" +
			"- 「まだ残っている」という理由なら、お届け周期の変更（例：1か月→2か月）もあわせてご案内します。"},
	{Question: "返品・交換の条件を教えてください", Category: "返品・交換", Tags: []string{"return", "exchange", "返品"},
		Answer: "- **未開封**：商品到着後**8日以内**にご連絡いただければ返品可。送料はお客様負担。\n" +
			"- **開封済み**：原則返品不可。ただし初回購入の方は「全額返金保証」の対象（到着後30日以内、1回限り）。\n" +
			"- **破損・不良・誤配送**：送料当社負担で交換。写真をメールで送っていただくようお願いします。\n\n" +
			"返品受付は管理画面「注文詳細 → 返品登録」。返金は返品到着確認後、5営業日以内。"},
	{Question: "使える支払い方法は？", Category: "支払い", Tags: []string{"payment", "支払い"},
		Answer: "クレジットカード（VISA／Mastercard／JCB／AMEX）、代金引換、後払い（コンビニ・郵便局・銀行、手数料220円）、" +
			"Amazon Pay がご利用いただけます。\n\n定期便は**クレジットカードと後払いのみ**です。代金引換はご利用いただけません。"},
	{Question: "領収書を発行してほしい", Category: "書類", Tags: []string{"receipt", "領収書"},
		Answer: "- クレジットカード・Amazon Pay：マイページの「注文履歴 → 領収書」からPDFを発行できます。\n" +
			"- 代金引換：配送会社の領収書が正式なものになります。\n" +
			"- 後払い：払込票の受領証が領収書の代わりになります。\n\n" +
			"宛名・但し書きの指定がある場合は、管理画面「書類発行」から郵送手配（3営業日程度）。再発行の場合は「再発行」と記載されます。"},
	{Question: "注文した商品はいつ届きますか？", Category: "配送", Tags: []string{"delivery", "shipping", "お届け"},
		Answer: "平日15時までのご注文は**当日発送**、それ以降は翌営業日発送です。発送後、関東・関西は翌日、北海道・九州・沖縄は2〜3日。\n\n" +
			"発送済みなら管理画面で伝票番号を確認し、配送状況をお伝えします。"},
	{Question: "お届け先の住所を変更したい", Category: "配送", Tags: []string{"delivery", "address", "住所変更"},
		Answer: "発送前なら「注文詳細 → お届け先」で変更できます。定期便の場合は「以降すべて」か確認し、顧客情報の住所も更新します。\n\n" +
			"発送済みの場合は、配送会社への転送依頼をご案内します（転送料がかかる場合があります）。"},
	{Question: "不在で受け取れなかった（不在票が入っていた）", Category: "配送", Tags: []string{"delivery", "不在", "再配達"},
		Answer: "不在票に記載の配送会社へ再配達をご依頼いただくようご案内します。保管期限は**7日間**。\n\n" +
			"期限を過ぎると当社へ返送されます。返送後の再発送は送料550円をいただきます。宅配ボックスのご利用も可能です。"},
	{Question: "定期便のお届け周期を変更したい", Category: "定期便", Tags: []string{"subscription", "周期", "interval"},
		Answer: "お届け周期は**1か月・2か月・3か月**から選べます。管理画面「定期便 → お届け周期」で変更。\n\n" +
			"次回お届け予定日の5日前を過ぎている場合、変更は次々回から反映されます。"},
	{Question: "定期便を解約したい", Category: "定期便", Tags: []string{"subscription", "cancel", "解約"},
		Answer: "解約はお電話で承ります（次回お届け予定日の**5日前まで**）。\n\n" +
			"1. まず理由を伺います（「残っている」「効果」「経済的」など）。\n" +
			"2. 理由に合わせて**スキップ・周期変更**をご提案します（強引な引き止めはしないこと）。\n" +
			"3. それでも解約の場合は、管理画面「定期便 → 解約」で手続きし、解約完了をお伝えします。\n\n" +
			"回数縛りのあるコースは、規定回数未満の解約時に通常価格との差額がかかる旨を説明します。"},
	{Question: "定期便の商品を変更・追加したい", Category: "定期便", Tags: []string{"subscription", "追加", "変更"},
		Answer: "管理画面「定期便 → 商品」で変更・追加できます。追加した商品も定期便価格（10%オフ）になります。\n\n" +
			"シャンプーをお使いの方にはトリートメントの追加が人気です。"},
	{Question: "注文をキャンセルしたい", Category: "注文", Tags: []string{"cancel", "キャンセル", "order"},
		Answer: "**発送前**であれば管理画面「注文詳細 → キャンセル」で承れます。クレジットカードの与信は自動で取り消されます。\n\n" +
			"発送後はキャンセルできないため、受け取り後の返品（未開封・8日以内）をご案内します。"},
	{Question: "届いた商品が破損していた・中身が違った", Category: "返品・交換", Tags: []string{"damaged", "exchange", "破損"},
		Answer: "まずお詫びします。破損・誤配送は**送料当社負担で交換**です。\n\n" +
			"- 破損箇所の写真をメールで送っていただくようお願いします。\n" +
			"- 管理画面「注文詳細 → 交換手配」で代替品を手配し、お届け予定日をお伝えします。\n" +
			"- 破損品は交換品の配達時に配送員が回収します。"},
	{Question: "間違えて注文してしまった", Category: "返品・交換", Tags: []string{"order", "cancel", "誤注文"},
		Answer: "発送前ならキャンセルまたは内容変更で対応します。発送後は未開封・到着後8日以内なら返品可（送料お客様負担）。"},
	{Question: "送料はいくらですか？", Category: "配送", Tags: []string{"shipping", "送料"},
		Answer: "全国一律**550円**。1回のご注文が**5,000円以上**で送料無料です。定期便はいつでも送料無料です。"},
	{Question: "後払いの請求書（払込票）が届かない", Category: "支払い", Tags: []string{"payment", "後払い", "請求書"},
		Answer: "払込票は商品とは**別に郵送**され、発送から約1週間で届きます。\n\n" +
			"2週間経っても届かない場合は、管理画面「決済 → 後払い → 再発行依頼」で再発行します（お支払い期限も延長されます）。"},
	{Question: "登録しているクレジットカードを変更したい", Category: "支払い", Tags: []string{"payment", "credit card", "カード変更"},
		Answer: "カード番号はお電話では**伺いません**（セキュリティのため）。マイページの「お支払い方法」から変更していただくようご案内します。\n\n" +
			"マイページが使えない方には、カード変更用のURLをSMSでお送りできます（管理画面「決済 → 変更URL送信」）。"},
	{Question: "代金引換の手数料はいくら？", Category: "支払い", Tags: []string{"payment", "代引き"},
		Answer: "代金引換手数料は**330円**です。定期便ではご利用いただけません。"},
	{Question: "納品書・明細書は入っていますか？", Category: "書類", Tags: []string{"receipt", "納品書"},
		Answer: "金額の入った納品書は、ギフト配送の場合を除き商品に同梱しています。ギフト配送の場合は金額なしの納品書になります。"},
	{Question: "薬用育毛ローションの使い方", Category: "商品", Tags: []string{"product", "HL-120", "使い方"},
		Answer: "1日2回（朝・夜）、**乾いた頭皮**に気になる部分を中心に適量（約1mL）をつけ、指の腹でやさしくなじませます。\n\n" +
			"- 洗い流す必要はありません。\n- 1本で約1か月分です。\n" +
			"- 効果・効能の説明は表示の範囲で。「必ず生える」などの表現は使わないこと（薬機法）。"},
	{Question: "アレルギーが心配。成分を知りたい", Category: "商品", Tags: []string{"product", "allergy", "成分"},
		Answer: "全成分は商品ページと外箱に記載しています。読み上げが必要な場合は管理画面「商品 → 全成分」を参照してください。\n\n" +
			"特定の成分で使用できるかの判断はできないため、**かかりつけの医師にご相談ください**とお伝えします。"},
	{Question: "妊娠中・授乳中でも使えますか？飲めますか？", Category: "商品", Tags: []string{"product", "pregnancy", "妊娠"},
		Answer: "当社からは可否を判断できません。**かかりつけの医師にご相談のうえ**ご利用くださいとご案内します。"},
	{Question: "青汁のおいしい飲み方は？", Category: "商品", Tags: []string{"product", "AO-30", "青汁"},
		Answer: "1包を水や牛乳100mLに溶かしてお飲みください。ヨーグルトやスムージーに混ぜる方も多いです。熱湯は避けてください。"},
	{Question: "効果が感じられない", Category: "商品", Tags: []string{"product", "効果", "cancel"},
		Answer: "ご期待に添えず申し訳ない旨をお伝えし、使用量・使用期間を確認します（目安として3か月）。\n\n" +
			"効果を断言・保証する表現は使わないこと。解約のご希望があれば「定期便を解約したい」の手順へ。"},
	{Question: "お試しセットから本品に切り替えたい", Category: "注文", Tags: []string{"order", "trial", "お試し"},
		Answer: "お試しセットをご購入の方は、初回の本品が**20%オフ**です。定期便でのお申し込みなら、さらに送料無料。\n\n" +
			"管理画面「新規注文」で「お試しからの切り替え」を選ぶと割引が自動で入ります。"},
	{Question: "ギフト包装・のしはできますか？", Category: "注文", Tags: []string{"gift", "ギフト", "のし"},
		Answer: "ギフトボックス（330円）をご注文に追加してください。のし（無地・御礼・御祝）は無料、メッセージカードも無料です。"},
	{Question: "登録している電話番号・メールアドレスを変更したい", Category: "会員", Tags: []string{"account", "会員情報"},
		Answer: "ご本人確認（お名前・ご住所・生年月日）のうえ、顧客カードを更新します。**旧番号と新番号の両方**を復唱して確認してください。"},
	{Question: "マイページのパスワードを忘れた", Category: "会員", Tags: []string{"account", "password", "パスワード"},
		Answer: "ログイン画面の「パスワードをお忘れの方」から再設定できます。パスワードをお電話で伺ったりお伝えしたりは**しません**。"},
	{Question: "ポイントの有効期限は？", Category: "会員", Tags: []string{"account", "point", "ポイント"},
		Answer: "ポイントは最後にお買い物をした日から**1年間**有効です。残高と期限は管理画面の顧客カード「ポイント」で確認できます。"},
	{Question: "カタログやDMを止めてほしい", Category: "会員", Tags: []string{"account", "DM", "個人情報"},
		Answer: "管理画面の顧客カードで「DM送付：停止」にします。反映まで最大1か月かかり、行き違いで届く場合がある旨をお伝えします。\n\n" +
			"電話でのご案内も不要の場合は「電話勧誘：拒否」も設定します（再勧誘禁止）。"},
	{Question: "電話がつながりにくい。営業時間は？", Category: "その他", Tags: []string{"contact", "営業時間"},
		Answer: "受付時間は**9時〜20時（年末年始を除く毎日）**。月曜の午前と18時以降は混み合います。\n\n" +
			"お待たせした場合はまずお詫びし、マイページ・メールでも手続きできることをご案内します。"},
	{Question: "海外に送ってもらえますか？", Category: "配送", Tags: []string{"delivery", "overseas", "海外"},
		Answer: "申し訳ございませんが、お届けは**日本国内のみ**です。"},
}

// Script ids other areas refer to (campaigns name their script).
const (
	ScriptInboundSupport = "inbound-support"
	ScriptOutboundTeiki  = "outbound-teiki"
)

func ch(label, next string) crmclient.ScriptChoice {
	return crmclient.ScriptChoice{Label: label, Next: next}
}

func seedScripts() []crmclient.ScriptInput {
	return []crmclient.ScriptInput{
		{
			ID: ScriptInboundSupport, Name: "インバウンド（お問い合わせ受付）", Start: "greeting",
			Nodes: []crmclient.ScriptNode{
				{ID: "greeting", Title: "第一声",
					Body:    "お電話ありがとうございます。\n**{{company.name}}**、担当の**{{agent.display_name}}**でございます。",
					Choices: []crmclient.ScriptChoice{ch("お客様が名乗った・着信表示あり", "identity")}},
				{ID: "identity", Title: "ご本人確認",
					Body: "{{customer.name}}様でいらっしゃいますね。いつもご利用ありがとうございます。\n\n" +
						"恐れ入りますが、ご本人様確認のため、**ご登録のご住所**をお伺いしてもよろしいでしょうか。\n\n" +
						"> 着信表示で顧客カードが出ていても、必ずご本人確認をすること。",
					Choices: []crmclient.ScriptChoice{ch("ご本人と確認できた", "purpose"), ch("ご家族からのお問い合わせ", "family"),
						ch("確認できない", "unverified")}},
				{ID: "family", Title: "ご家族からのお問い合わせ",
					Body: "ご家族様からのお問い合わせですね。\n\n" +
						"お届け日の変更など**ご契約内容に関わらないご用件**は承れます。" +
						"ご注文内容・お支払いについては、ご契約者様ご本人からのお電話をお願いしております。",
					Choices: []crmclient.ScriptChoice{ch("承れる用件だった", "purpose"), ch("ご本人から改めてお電話いただく", "closing")}},
				{ID: "unverified", Title: "確認できない場合",
					Body: "申し訳ございません。個人情報保護のため、ご登録内容と一致しない場合はご注文の詳細をお伝えできかねます。\n\n" +
						"お手数ですが、お手元の納品書をご用意のうえ、改めてお電話いただけますでしょうか。",
					Choices: []crmclient.ScriptChoice{ch("了承いただいた", "closing")}},
				{ID: "purpose", Title: "ご用件",
					Body: "本日はどのようなご用件でしょうか。\n\n> 画面上部のヒント（配送中・定期便など）を参考に、ご用件を先回りしすぎないこと。",
					Choices: []crmclient.ScriptChoice{ch("配送・お届け日の変更", "delivery"), ch("定期便（スキップ・周期変更・解約）", "subscription"),
						ch("返品・交換", "returns"), ch("商品について", "product"), ch("その他・すぐに答えられない", "escalate")}},
				{ID: "delivery", Title: "配送・お届け日",
					Body: "ご注文の状況を確認いたします。少々お待ちください。\n\n" +
						"- 発送前：ご希望のお届け日時を伺い、変更します。\n- 発送済み：伝票番号をお伝えし、配送会社へのご連絡をご案内します。\n\n" +
						"FAQ：「配送日時の変更はできますか？」",
					Choices: []crmclient.ScriptChoice{ch("対応完了", "closing"), ch("対応できない", "escalate")}},
				{ID: "subscription", Title: "定期便",
					Body: "定期便のご用件ですね。次回のお届けは画面の日付のとおりです。\n\n" +
						"- スキップ：次回お届け予定日の5日前まで。\n- 周期変更：1か月・2か月・3か月。\n- 解約のお申し出：理由を伺います。",
					Choices: []crmclient.ScriptChoice{ch("スキップ・周期変更で完了", "closing"), ch("解約のお申し出", "retention")}},
				{ID: "retention", Title: "解約のお申し出",
					Body: "さようでございますか。差し支えなければ、理由をお伺いしてもよろしいでしょうか。\n\n" +
						"- 「まだ残っている」→ 次回スキップ、または周期を2か月に。\n- 「効果が分からない」→ ご使用方法の確認（3か月が目安）。\n" +
						"- 「経済的な理由」→ そのまま解約を承る。\n\n> ご提案は1回まで。お断りいただいたら、すぐに解約を承ること。",
					Choices: []crmclient.ScriptChoice{ch("スキップ・周期変更で継続", "closing"), ch("解約を承る", "cancel-done")}},
				{ID: "cancel-done", Title: "解約手続き",
					Body: "承知いたしました。定期便の解約を承りました。{{customer.name}}様、これまでご愛用いただきありがとうございました。\n\n" +
						"次回分のお届けはございません。解約完了のメールをお送りいたします。",
					Choices: []crmclient.ScriptChoice{ch("次へ", "closing")}},
				{ID: "returns", Title: "返品・交換",
					Body: "ご不便をおかけして申し訳ございません。\n\n- 破損・誤配送：送料当社負担で交換。\n- 未開封：到着後8日以内なら返品可。\n" +
						"- 初回購入の方：全額返金保証（30日以内）。\n\nFAQ：「返品・交換の条件を教えてください」",
					Choices: []crmclient.ScriptChoice{ch("受付完了", "closing"), ch("判断できない", "escalate")}},
				{ID: "product", Title: "商品について",
					Body:    "FAQで該当の商品を検索してお答えします。\n\n> 効果・効能は表示の範囲で。医療に関わるご質問は「かかりつけの医師にご相談ください」。",
					Choices: []crmclient.ScriptChoice{ch("お答えできた", "closing"), ch("お答えできない", "escalate")}},
				{ID: "escalate", Title: "折り返しのお約束",
					Body: "確認のうえ、担当の者から折り返しお電話いたします。\n\n" +
						"ご連絡のつきやすい**日時**と**お電話番号**を伺ってもよろしいでしょうか。\n\n> 折り返し日時を必ず記録すること（忘れ防止）。",
					Choices: []crmclient.ScriptChoice{ch("折り返し日時を記録した", "closing")}},
				{ID: "closing", Title: "クロージング",
					Body:    "ほかにご不明な点はございませんか。\n\n本日は{{company.name}}の{{agent.display_name}}が承りました。お電話ありがとうございました。",
					Choices: []crmclient.ScriptChoice{}},
			},
			Checklist: []crmclient.ChecklistItem{
				{ID: "identity", Label: "Identity confirmed (registered address)", LabelJA: "ご本人確認（ご登録住所）", Required: true},
				{ID: "readback", Label: "Request read back to the customer", LabelJA: "ご用件・手続き内容の復唱", Required: true},
				{ID: "callback", Label: "Callback date recorded, if promised", LabelJA: "折り返しを約束した場合は日時を記録", Required: false},
			},
		},
		{
			ID: ScriptOutboundTeiki, Name: "アウトバウンド（定期便のご案内）", Start: "opening",
			Nodes: []crmclient.ScriptNode{
				{ID: "opening", Title: "第一声（会社名・担当者名）",
					Body: "お世話になっております。**{{company.name}}**の**{{agent.display_name}}**と申します。\n\n" +
						"{{customer.name}}様のお電話でよろしいでしょうか。",
					Choices: []crmclient.ScriptChoice{ch("ご本人", "purpose"), ch("ご本人以外・不在", "absent")}},
				{ID: "absent", Title: "ご本人以外・不在",
					Body: "さようでございますか。それでは改めてお電話いたします。失礼いたします。\n\n" +
						"> ご家族にもご用件（勧誘の内容）は話さないこと。",
					Choices: []crmclient.ScriptChoice{ch("終了（再架電）", "end")}},
				{ID: "purpose", Title: "勧誘目的・商品の告知",
					Body: "本日は、先日お買い求めいただいた商品の**定期便のご案内**でお電話いたしました。\n\n" +
						"2、3分ほどお時間よろしいでしょうか。\n\n" +
						"> 特定商取引法：会社名・担当者名に続けて、**勧誘目的であること**と**商品の種類**を最初に伝える。",
					Choices: []crmclient.ScriptChoice{ch("聞いていただける", "proposal"), ch("今は都合が悪い", "callback"), ch("不要・お断り", "refused")}},
				{ID: "proposal", Title: "ご提案",
					Body: "定期便にしていただくと、\n\n- 毎回**10%オフ**\n- **送料無料**\n- **いつでも**スキップ・周期変更・解約ができます（回数のお約束はありません）\n\n" +
						"{{customer.name}}様がお使いの商品は、1本でちょうど1か月分です。毎月お届けでよろしいでしょうか。",
					Choices: []crmclient.ScriptChoice{ch("申し込む", "confirm"), ch("検討したい", "callback"), ch("断られた", "refused")}},
				{ID: "confirm", Title: "お申し込み内容の確認",
					Body: "ありがとうございます。お申し込み内容を確認いたします。\n\n" +
						"- 商品名・数量・お届け周期\n- 定期便価格（税込）と送料無料\n- お支払い方法（クレジットカード／後払い）\n" +
						"- 初回お届け予定日\n- スキップ・解約は次回お届け予定日の5日前まで、お電話またはマイページで\n\n" +
						"後ほど、ご契約内容を記載した書面をお送りします（クーリング・オフについても記載しています）。",
					Choices: []crmclient.ScriptChoice{ch("確認いただいた", "closing")}},
				{ID: "callback", Title: "改めてのお電話",
					Body:    "承知いたしました。ご都合のよろしい日時はございますか。\n\n> 日時をいただけた場合のみ再架電を登録。お断りなら「不要」へ。",
					Choices: []crmclient.ScriptChoice{ch("日時を記録した", "closing"), ch("不要と言われた", "refused")}},
				{ID: "refused", Title: "お断り",
					Body: "承知いたしました。お時間をいただきありがとうございました。\n\n" +
						"> 特定商取引法：お断りの方への**再勧誘は禁止**。結果を「refused」で登録すると、以後このキャンペーンから架電されません。",
					Choices: []crmclient.ScriptChoice{ch("次へ", "end")}},
				{ID: "closing", Title: "クロージング",
					Body:    "本日は{{company.name}}の{{agent.display_name}}がご案内いたしました。ありがとうございました。",
					Choices: []crmclient.ScriptChoice{ch("終了", "end")}},
				{ID: "end", Title: "通話終了", Body: "結果を登録してください。", Choices: []crmclient.ScriptChoice{}},
			},
			Checklist: []crmclient.ChecklistItem{
				{ID: "company", Label: "Stated the company name", LabelJA: "会社名を名乗った", Required: true},
				{ID: "agent-name", Label: "Stated own name", LabelJA: "担当者名を名乗った", Required: true},
				{ID: "product", Label: "Stated the kind of product", LabelJA: "商品の種類を伝えた", Required: true},
				{ID: "purpose", Label: "Stated that the call is a sales offer", LabelJA: "勧誘目的であることを伝えた", Required: true},
				{ID: "terms", Label: "On sign-up: price, payment, delivery, cancellation read out", LabelJA: "申込時：価格・支払・引渡し・解約条件を説明", Required: false},
			},
		},
	}
}

// DefaultHintRules are the rules a new CRM starts with (Seed writes them); teams tune
// them with PUT /v1/hint-rules.
func DefaultHintRules() []crmclient.HintRule {
	intent := func(id, cond string, days int, en, ja string) crmclient.HintRule {
		return crmclient.HintRule{ID: id, Kind: crmclient.HintIntent, Condition: cond, Days: days, Text: en, TextJA: ja}
	}
	return []crmclient.HintRule{
		intent("in-transit", crmclient.CondShippedNotDelivered, 3,
			"Likely about delivery: date change / cancel", "配送の件の可能性：日時変更・キャンセル"),
		intent("not-shipped", crmclient.CondOrderedNotShipped, 3,
			"Order not shipped yet: change or cancel is still possible", "発送前のご注文あり：内容変更・キャンセルが可能"),
		intent("just-delivered", crmclient.CondDelivered, 7,
			"Likely about the product just received: how to use / return", "お届けした商品の件の可能性：使い方・返品"),
		intent("subscription", crmclient.CondSubscriptionActive, 45,
			"Subscription: skip / change / cancel", "定期便のお客様：スキップ・変更・解約"),
		intent("refund-check", crmclient.CondCancelledOrReturned, 30,
			"Recent cancellation/return: check the refund", "最近のキャンセル・返品あり：返金状況を確認"),
		{ID: "co-purchase", Kind: crmclient.HintCrossSell, Condition: crmclient.CondCoPurchase, Days: 180, MinPercent: 15,
			Text:   "Bought {a}: {share} of such customers also buy {b} within 6 months",
			TextJA: "{a}をご購入のお客様の{share}が、6か月以内に{b}もご購入"},
	}
}
