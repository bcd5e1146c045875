package crmserver

// Word lists for seed data. They are small on purpose: realistic enough that a demo
// looks like a Japanese mail-order shop's customer base, and that searching by a
// common surname returns many rows, as it does in a real one.

// reading is a name in kanji, its katakana reading, and a romanisation for e-mails.
type reading struct{ kanji, kana, roma string }

// surnames are among the most common Japanese family names.
var surnames = []reading{
	{"佐藤", "サトウ", "sato"}, {"鈴木", "スズキ", "suzuki"}, {"高橋", "タカハシ", "takahashi"},
	{"田中", "タナカ", "tanaka"}, {"伊藤", "イトウ", "ito"}, {"渡辺", "ワタナベ", "watanabe"},
	{"山本", "ヤマモト", "yamamoto"}, {"中村", "ナカムラ", "nakamura"}, {"小林", "コバヤシ", "kobayashi"},
	{"加藤", "カトウ", "kato"}, {"吉田", "ヨシダ", "yoshida"}, {"山田", "ヤマダ", "yamada"},
	{"佐々木", "ササキ", "sasaki"}, {"山口", "ヤマグチ", "yamaguchi"}, {"松本", "マツモト", "matsumoto"},
	{"井上", "イノウエ", "inoue"}, {"木村", "キムラ", "kimura"}, {"林", "ハヤシ", "hayashi"},
	{"斎藤", "サイトウ", "saito"}, {"清水", "シミズ", "shimizu"}, {"山崎", "ヤマザキ", "yamazaki"},
	{"森", "モリ", "mori"}, {"池田", "イケダ", "ikeda"}, {"橋本", "ハシモト", "hashimoto"},
	{"阿部", "アベ", "abe"}, {"石川", "イシカワ", "ishikawa"}, {"山下", "ヤマシタ", "yamashita"},
	{"中島", "ナカジマ", "nakajima"}, {"石井", "イシイ", "ishii"}, {"小川", "オガワ", "ogawa"},
	{"前田", "マエダ", "maeda"}, {"岡田", "オカダ", "okada"}, {"長谷川", "ハセガワ", "hasegawa"},
	{"藤田", "フジタ", "fujita"}, {"後藤", "ゴトウ", "goto"}, {"近藤", "コンドウ", "kondo"},
	{"村上", "ムラカミ", "murakami"}, {"遠藤", "エンドウ", "endo"}, {"青木", "アオキ", "aoki"},
	{"坂本", "サカモト", "sakamoto"},
}

var givenFemale = []reading{
	{"陽子", "ヨウコ", "yoko"}, {"恵子", "ケイコ", "keiko"}, {"京子", "キョウコ", "kyoko"},
	{"幸子", "サチコ", "sachiko"}, {"美穂", "ミホ", "miho"}, {"直美", "ナオミ", "naomi"},
	{"由美子", "ユミコ", "yumiko"}, {"真由美", "マユミ", "mayumi"}, {"明美", "アケミ", "akemi"},
	{"裕子", "ユウコ", "yuko"}, {"愛", "アイ", "ai"}, {"さくら", "サクラ", "sakura"},
	{"陽菜", "ヒナ", "hina"}, {"結衣", "ユイ", "yui"}, {"美咲", "ミサキ", "misaki"},
	{"葵", "アオイ", "aoi"}, {"花子", "ハナコ", "hanako"}, {"久美子", "クミコ", "kumiko"},
	{"智子", "トモコ", "tomoko"}, {"和子", "カズコ", "kazuko"},
}

var givenMale = []reading{
	{"太郎", "タロウ", "taro"}, {"一郎", "イチロウ", "ichiro"}, {"健一", "ケンイチ", "kenichi"},
	{"浩", "ヒロシ", "hiroshi"}, {"誠", "マコト", "makoto"}, {"大輔", "ダイスケ", "daisuke"},
	{"翔太", "ショウタ", "shota"}, {"拓也", "タクヤ", "takuya"}, {"健太", "ケンタ", "kenta"},
	{"直樹", "ナオキ", "naoki"}, {"隆", "タカシ", "takashi"}, {"清", "キヨシ", "kiyoshi"},
	{"勇", "イサム", "isamu"}, {"大翔", "ヒロト", "hiroto"}, {"蓮", "レン", "ren"},
	{"悠真", "ユウマ", "yuma"}, {"和也", "カズヤ", "kazuya"}, {"修", "オサム", "osamu"},
	{"茂", "シゲル", "shigeru"}, {"聡", "サトシ", "satoshi"},
}

// town is a real postal code and its town; area is the landline area code used for
// it in seed data ("" = customers there get mobile numbers only).
type town struct{ postal, pref, city, town, area string }

var towns = []town{
	{"150-0041", "東京都", "渋谷区", "神南", "3"}, {"160-0022", "東京都", "新宿区", "新宿", "3"},
	{"171-0022", "東京都", "豊島区", "南池袋", "3"}, {"130-0022", "東京都", "墨田区", "江東橋", "3"},
	{"180-0004", "東京都", "武蔵野市", "吉祥寺本町", ""}, {"135-0016", "東京都", "江東区", "東陽", "3"},
	{"154-0004", "東京都", "世田谷区", "太子堂", "3"}, {"164-0001", "東京都", "中野区", "中野", "3"},
	{"530-0001", "大阪府", "大阪市北区", "梅田", "6"}, {"542-0076", "大阪府", "大阪市中央区", "難波", "6"},
	{"545-0052", "大阪府", "大阪市阿倍野区", "阿倍野筋", "6"}, {"532-0011", "大阪府", "大阪市淀川区", "西中島", "6"},
	{"220-0011", "神奈川県", "横浜市西区", "高島", ""}, {"330-0854", "埼玉県", "さいたま市大宮区", "桜木町", ""},
	{"260-0015", "千葉県", "千葉市中央区", "富士見", ""}, {"650-0021", "兵庫県", "神戸市中央区", "三宮町", ""},
	{"460-0008", "愛知県", "名古屋市中区", "栄", ""}, {"810-0001", "福岡県", "福岡市中央区", "天神", ""},
	{"060-0042", "北海道", "札幌市中央区", "大通西", ""}, {"980-0021", "宮城県", "仙台市青葉区", "中央", ""},
}

var buildings = []string{"グランメゾン", "コーポ桜", "ハイツ緑町", "パークサイド", "メゾン・ド・ソレイユ", "サンライズ"}

// product is something a single-product repeat shop (健康食品・化粧品) sells.
type product struct {
	sku, name string
	price     int64
	subscribe bool // sold as a subscription (定期便)
}

var products = []product{
	{"HL-120", "薬用育毛ローション 120mL", 4980, true},
	{"SH-400", "アミノ酸シャンプー 400mL", 2480, true},
	{"TR-400", "ヘアトリートメント 400g", 2680, true},
	{"AO-30", "国産青汁 30包", 3240, true},
	{"CD-10", "コラーゲンドリンク 10本", 3980, true},
	{"EZ-90", "酵素サプリ 90粒", 2980, true},
	{"GL-80", "オールインワンジェル 80g", 3600, true},
	{"KS-60", "黒酢カプセル 60粒", 1980, false},
	{"HC-50", "ハンドクリーム 50g", 980, false},
	{"TB-01", "お試しセット（7日分）", 500, false},
	{"GF-01", "ギフトボックス", 330, false},
}

const shippingJPY = 550 // charged below freeShippingJPY
const freeShippingJPY = 5000

var customerNotes = []string{
	"定期便は2か月に1回のお届けを希望。",
	"平日の日中はお仕事のため、電話は18時以降に。",
	"髪を短くされたとのこと。使用量が減るため隔月配送をご提案済み。",
	"ご家族（奥様）からのお問い合わせもあり。",
	"前回の対応にご不満あり。丁寧な説明を心がけること。",
	"不在が多いため宅配ボックスの利用可。",
	"敏感肌。成分についての質問が多い。",
	"ご高齢のため、ゆっくりはっきりお話しすること。",
}

// agentsOfOld are the display names in seeded call history: operators past and
// present, not necessarily users of this database.
var agentsOfOld = []string{"山田 花子", "鈴木 一郎", "高橋 美紀", "伊藤 翔", "中村 さやか", "小林 健"}

// callKind is a seeded call's disposition with the notes an operator would write;
// %s in a note is filled with a date like "5月12日".
type callKind struct {
	disposition string
	outbound    bool
	notes       []string
}

var callKinds = []callKind{
	{"delivery_change", false, []string{"お届け日の変更希望。%sに変更済み。", "出張のため受け取れないとのこと。%s午前着に変更。"}},
	{"skip_next", false, []string{"まだ残っているので次回お届けを1回お休み。%sから再開。", "定期便を1回スキップ。在庫が余っているとのこと。"}},
	{"cancel_request", false, []string{"定期便の解約希望。効果を実感できないとのこと。次回スキップを提案し継続。", "解約希望。理由：経済的な事情。解約手続き完了。"}},
	{"product_question", false, []string{"使い方のご質問。1日2回、頭皮になじませるよう説明。", "成分（アレルギー）についてのご質問。原材料表をご案内。"}},
	{"order_placed", false, []string{"電話で追加注文。お届けは%s。", "お試しセットから本品へ切り替えのご注文。"}},
	{"complaint", false, []string{"届いた商品の箱がつぶれていたとのこと。交換品を%sに発送手配。", "請求金額についてのご指摘。二重請求ではないことを説明し納得いただいた。"}},
	{"escalated", false, []string{"返金についてのご相談。担当部署へエスカレーション。%sまでに折り返し予定。"}},
	{"callback_done", true, []string{"お約束の折り返し。返金手続き完了をご報告。"}},
	{"no_answer", true, []string{"不在。留守番電話にメッセージを残した。", "応答なし。%sに再架電予定。"}},
	{"upsell_accepted", true, []string{"シャンプーご愛用のため、トリートメントをご提案。定期便に追加。"}},
	{"refused", true, []string{"今は必要ないとのこと。今後のご案内は不要と。"}},
}
