package ui

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The staff console speaks English and Japanese too. Its words live here,
// apart from the reporter catalog, and templates reach them with
// {{T "key" args…}} (a fmt format) and {{v value}} (a stored value such as
// a status, named for people). Dates stay in UTC for staff in both
// languages, labelled so, because cases, logs and the account system all
// count in UTC. Messages of domain errors from cases stay English: they are
// written for staff, and a staff member reading Japanese still recognises
// the few that appear (a wrong form field, a forbidden action).
//
// The choice persists in a lang cookie rather than in users: the switch is
// a link with ?lang=, which works without JavaScript and on the login page
// before anyone is known, and a cookie needs no migration. It holds only
// "en" or "ja", so it is neither secret nor personal; SameSite=Lax lets it
// ride along when a staff member follows a link to a case from mail.
const langCookie = "lang"

// staffMessages: key → English and Japanese.
var staffMessages = map[string]struct{ en, ja string }{
	"nav.label":  {"Staff", "スタッフ用メニュー"},
	"nav.queue":  {"Queue", "案件一覧"},
	"nav.mail":   {"Mail", "受信メール"},
	"nav.outbox": {"Outbox", "送信箱"},
	"nav.leads":  {"Leads", "リーダー"},
	"nav.admin":  {"Admin", "管理"},
	"nav.logout": {"Log out", "ログアウト"},

	"yes":        {"yes", "はい"},
	"no":         {"no", "いいえ"},
	"none":       {"None.", "ありません。"},
	"none.lc":    {"none", "なし"},
	"never":      {"never", "未取得"},
	"nobody":     {"nobody", "未割り当て"},
	"unknown":    {"unknown", "不明"},
	"escalated":  {"escalated", "エスカレーション中"},
	"met":        {"met", "達成"},
	"close":      {"Close", "閉じる"},
	"sep":        {"; ", "、"},
	"nodata":     {"no data", "データなし"},
	"backqueue":  {"Back to the queue", "案件一覧に戻る"},
	"bytes":      {"%d bytes", "%dバイト"},
	"col.case":   {"Case", "案件"},
	"col.when":   {"When", "日時"},
	"col.who":    {"Who", "操作者"},
	"col.status": {"Status", "状態"},
	"col.kind":   {"Kind", "メール種別"},
	"col.match":  {"Match", "照合"},

	"col.severity": {"Severity", "重大度"},
	"col.deadline": {"Next deadline", "次の期限"},
	"col.reports":  {"Reports", "報告数"},
	"col.assignee": {"Assigned to", "担当者"},

	"time.underminute": {"under a minute", "1分未満"},
	"time.s":           {"%d s", "%d秒"},
	"time.min":         {"%d min", "%d分"},
	"time.hmin":        {"%d h %d min", "%d時間%d分"},
	"time.days":        {"%d days", "%d日"},
	"time.fdays":       {"%.1f days", "%.1f日"},
	"time.left":        {"%s left", "残り%s"},
	"time.overdue":     {"%s overdue", "%s超過"},

	"login.title":         {"Staff login", "スタッフログイン"},
	"login.expired":       {"Your session expired. Please log in again; you will return to the page you were on.", "セッションの有効期限が切れました。もう一度ログインしてください。ログイン後は元のページに戻ります。"},
	"login.email":         {"Email", "メールアドレス"},
	"login.password":      {"Password", "パスワード"},
	"login.submit":        {"Log in", "ログイン"},
	"login.wrong":         {"Wrong email or password.", "メールアドレスまたはパスワードが正しくありません。"},
	"login.toomany.title": {"Too many login attempts", "ログインの試行回数が多すぎます"},
	"login.toomany.body":  {"There were many login attempts from your network in a short time. Please wait a minute and try again.", "お使いのネットワークから短時間に多くのログインが試みられました。1分ほど待ってから、もう一度お試しください。"},

	"queue.title":         {"Queue", "案件一覧"},
	"queue.search":        {"Search", "検索結果"},
	"queue.takenext":      {"Take next case", "次の案件を担当する"},
	"queue.nonewaiting":   {"No unassigned open case is waiting.", "担当者のいない未対応の案件はありません。"},
	"queue.filters":       {"Filters", "絞り込み"},
	"queue.filter":        {"Filter", "絞り込む"},
	"queue.clear":         {"Clear filters", "絞り込みを解除"},
	"queue.found":         {"%d cases found by ", "%d件の案件が見つかりました（一致："},
	"queue.found.and":     {" and ", "、"},
	"queue.found.end":     {", of any status.", "、すべての状態が対象）。"},
	"queue.notfound":      {"No case has the reference, Message-ID, account ref or reporter address “%s”.", "受付番号・Message-ID・アカウント参照・報告者アドレスが「%s」に一致する案件はありません。"},
	"queue.back":          {"Back to the queue", "案件一覧に戻る"},
	"queue.caption":       {"%d cases, most urgent first", "%d件の案件（緊急度の高い順）"},
	"queue.dueby":         {"%s by %s", "%s期限 %s"},
	"queue.allmet":        {"all met", "すべて達成"},
	"queue.closed":        {"closed", "終了"},
	"queue.nomatch":       {"No case matches these filters —", "この条件に一致する案件はありません —"},
	"queue.nomatch.clear": {"clear filters", "絞り込みを解除"},
	"queue.nomatch.end":   {".", ""},
	"queue.clearall":      {"No open case. The queue is clear.", "対応中の案件はありません。"},

	"f.any":          {"any", "すべて"},
	"f.open":         {"open", "対応中"},
	"f.all":          {"all", "すべて（終了を含む）"},
	"f.escalated":    {"Escalated", "エスカレーション"},
	"f.notescalated": {"not escalated", "エスカレーションなし"},
	"f.anyone":       {"anyone", "全員"},
	"f.me":           {"me", "自分"},

	"search.label":  {"Find a case", "案件を探す"},
	"search.submit": {"Search", "検索"},
	"search.help":   {"Exact match: case reference (NM-…), Message-ID, account ref or reporter address.", "完全一致で検索：受付番号（NM-…）、Message-ID、アカウント参照、報告者のメールアドレス。"},

	"keys.title":  {"Keyboard shortcuts", "キーボードショートカット"},
	"keys.n":      {"take the next case", "次の案件を担当する"},
	"keys.jk":     {"next / previous case in the list", "一覧の次／前の案件"},
	"keys.enter":  {"open the selected case", "選択中の案件を開く"},
	"keys.slash":  {"search", "検索"},
	"keys.help":   {"this list", "この一覧を表示"},
	"keys.typing": {"Shortcuts do nothing while you type in a field.", "入力欄に入力している間、ショートカットは働きません。"},

	"case.title":              {"Case %s", "案件 %s"},
	"case.containby":          {"Contain by", "封じ込め期限"},
	"case.resolveby":          {"Resolve by", "解決期限"},
	"case.assessment":         {"Breach assessment", "漏えい評価"},
	"case.due":                {"due %s", "期限 %s"},
	"case.account":            {"Account", "アカウント"},
	"case.notmatched":         {"not matched yet", "未照合"},
	"case.tier":               {"Tier", "対応チーム"},
	"case.opened":             {"Opened", "起票日時"},
	"case.assignee":           {"Assignee", "担当者"},
	"case.nobodyyet":          {"nobody yet", "未割り当て"},
	"case.who":                {"Who works it", "担当"},
	"case.workedby":           {"Worked by %s", "担当：%s"},
	"case.you":                {" (you)", "（あなた）"},
	"case.workedby.end":       {".", ""},
	"case.nobody":             {"Nobody has this case yet.", "この案件にはまだ担当者がいません。"},
	"case.take":               {"Take this case", "この案件を担当する"},
	"case.reassign":           {"Reassign to", "担当者を変更"},
	"case.assign":             {"Assign to", "担当者を割り当て"},
	"case.assign.submit":      {"Assign", "割り当てる"},
	"case.statush":            {"Status: %s", "状態：%s"},
	"case.markcontained":      {"Mark contained", "封じ込め済みにする"},
	"case.resolve":            {"Resolve…", "解決する…"},
	"case.resolve.confirm":    {"Resolving closes the case and sends the outcome notice to reporters. It cannot be undone.", "解決すると案件は終了し、報告者に結果通知が送られます。元に戻せません。"},
	"case.resolve.yes":        {"Yes, resolve the case", "はい、案件を解決します"},
	"case.dismiss":            {"Dismiss…", "対応不要として終了…"},
	"case.dismiss.why":        {"Why (the reporters are told their report is closed)", "理由（報告者には対応終了と伝えられます）"},
	"case.dismiss.ph":         {"The address was the holder's own", "名義人本人のアドレスだった"},
	"case.dismiss.confirm":    {"Dismissing closes the case. It cannot be undone.", "対応不要として終了すると案件は閉じられます。元に戻せません。"},
	"case.dismiss.yes":        {"Yes, dismiss the case", "はい、対応不要として終了します"},
	"case.leads":              {"Security leads", "セキュリティリーダー"},
	"case.escalate":           {"Escalate to the leads…", "リーダーにエスカレーション…"},
	"case.escalate.why":       {"Why the leads should look at it", "リーダーの確認が必要な理由"},
	"case.escalate.ph":        {"Card posted to the stranger's address", "カードが第三者の住所に郵送された"},
	"case.escalate.submit":    {"Escalate", "エスカレーションする"},
	"case.escalated":          {"Escalated: the leads see this case.", "エスカレーション中：リーダーがこの案件を確認しています。"},
	"case.deescalate":         {"De-escalate…", "エスカレーションを解除…"},
	"case.deescalate.why":     {"Why the leads no longer need to", "リーダーの確認が不要になった理由"},
	"case.deescalate.confirm": {"The case leaves the leads' list. It cannot be undone.", "案件はリーダーの一覧から外れます。元に戻せません。"},
	"case.deescalate.yes":     {"Yes, de-escalate", "はい、エスカレーションを解除します"},
	"case.assess":             {"Record the breach assessment…", "漏えい評価を記録…"},
	"case.assess.legend":      {"Is this a personal-data breach that must be notified?", "報告義務のある個人データの漏えいにあたりますか？"},
	"case.assess.yes":         {"notifiable", "報告対象"},
	"case.assess.no":          {"not notifiable", "報告対象外"},
	"case.assess.why":         {"Why (audited)", "理由（監査ログに記録されます）"},
	"case.assess.ph":          {"Only the holder's first name was shown", "名義人の名だけが表示されていた"},
	"case.assess.submit":      {"Record assessment", "評価を記録する"},
	"case.containment":        {"Containment", "封じ込め"},
	"case.confirmmatch":       {"Confirm the match to %s", "%s との照合を確定する"},
	"case.confirmmatch.why":   {"A probable match: containment is requested once a person confirms it.", "推定による照合です。担当者が確定すると封じ込めを依頼します。"},
	"case.reports":            {"Reports (%d)", "報告（%d件）"},
	"case.mail":               {"Mail (%d)", "メール（%d通）"},
	"case.acks":               {"Acknowledgements", "受付通知"},
	"case.timeline":           {"Timeline", "対応履歴"},
	"case.note":               {"Internal note (never shown to reporters)", "内部メモ（報告者には表示されません）"},
	"case.note.submit":        {"Add note", "メモを追加"},

	// One truth for staff (docs/staff-console.md): deadlines, the next
	// step, worse evidence, plain match words, confirmations.
	"case.assessby":     {"Assess by", "漏えい評価期限"},
	"case.dl.contain":   {"Contain by", "封じ込め期限"},
	"case.dl.resolve":   {"Resolve by", "解決期限"},
	"case.dl.assess":    {"Assess by", "漏えい評価期限"},
	"case.newevidence":  {"New evidence since containment (%s): a report raised the severity, so the case is new again with a fresh contain-by deadline, and the leads were told. Contain it again.", "封じ込め後に新たな証拠があります（%s）。報告により重大度が上がったため、案件は新規に戻り、封じ込め期限が改めて設定され、リーダーに通知されました。もう一度封じ込めてください。"},
	"queue.newevidence": {"new evidence", "新たな証拠"},
	"case.next":         {"Next step", "次の対応"},
	"case.next.take":    {"Nobody works this case yet: take it first.", "この案件にはまだ担当者がいません。まず担当してください。"},
	"case.next.confirm": {"The match is only probable: confirm it to request containment.", "照合は推定です。確定すると封じ込めを依頼します。"},
	"case.next.request": {"Exact match, nothing requested yet: ask the account system to contain it.", "照合は確定していますが、まだ何も依頼していません。アカウントシステムに封じ込めを依頼してください。"},
	"case.next.more":    {"New evidence since containment: request what it calls for (for a possible takeover, locking the account, which a lead confirms), then mark the case contained again.", "封じ込め後に新たな証拠があります。必要な措置（乗っ取りの可能性があればアカウントのロック。リーダーが確定します）を依頼してから、もう一度封じ込め済みにしてください。"},
	"case.next.contain": {"Containment was requested: once the account is safe, mark the case contained.", "封じ込めを依頼済みです。アカウントの安全を確認したら、封じ込め済みにしてください。"},
	"case.next.resolve": {"Contained: when nothing is left to do, resolve the case.", "封じ込め済みです。残りの対応がなければ、案件を解決してください。"},
	"case.next.triage":  {"Not matched to an account: read the reports and mail, then dismiss or add a note.", "アカウントと照合できていません。報告とメールを確認し、対応不要として終了するか、メモを残してください。"},
	"case.mail.report":  {" (report %d)", "（報告%d）"},
	"rep.n":             {"Report %d", "報告%d"},
	"rep.by.token":      {"exact match: the link's sealed token", "確定照合：リンクの封印トークン"},
	"rep.by.ledger":     {"exact match: the mail's Message-ID is in the ledger", "確定照合：メールのMessage-IDが台帳にある"},
	"rep.by.recipient":  {"probable match: the reporter's address received this account's mail — confirm it", "推定照合：報告者のアドレスがこのアカウントのメールを受信している（確認が必要）"},
	"rep.by.case-ref":   {"probable match: a reply to the desk's acknowledgement", "推定照合：窓口からの受付通知への返信"},
	"rep.by.none":       {"not matched to an account", "アカウントと未照合"},
	"match.exact":       {"exact (the account is known)", "確定（アカウント特定済み）"},
	"match.probable":    {"probable (a person must confirm)", "推定（担当者の確認が必要）"},
	"match.unmatched":   {"not matched to an account", "アカウントと未照合"},
	"done.note":         {"Note added.", "メモを追加しました。"},
	"done.taken":        {"You now work this case.", "この案件の担当になりました。"},
	"done.assigned":     {"Case assigned.", "担当者を割り当てました。"},
	"done.escalated":    {"Escalated: the leads see this case now.", "エスカレーションしました。リーダーがこの案件を確認します。"},
	"done.deescalated":  {"De-escalated: the case left the leads' list.", "エスカレーションを解除しました。案件はリーダーの一覧から外れました。"},
	"done.contained":    {"Marked contained.", "封じ込め済みにしました。"},
	"done.resolved":     {"Case resolved; reporters who were acknowledged get the outcome notice.", "案件を解決しました。受付通知を受け取った報告者に結果通知が送られます。"},
	"done.dismissed":    {"Case dismissed.", "案件を対応不要として終了しました。"},
	"done.containment":  {"Containment requested from the account system.", "アカウントシステムに封じ込めを依頼しました。"},
	"done.confirmed":    {"Match confirmed. Containment requested for it, if any, is listed under Containment.", "照合を確定しました。これにより依頼した封じ込めがあれば、「封じ込め」に表示されています。"},
	"done.assessed":     {"Breach assessment recorded.", "漏えい評価を記録しました。"},
	"done.retried":      {"Webhook queued to be sent again.", "Webhookを再送に回しました。"},

	"ct.action":          {"Action", "措置"},
	"ct.state":           {"State", "状態"},
	"ct.requested":       {"Requested", "依頼"},
	"ct.delivered":       {"Delivered", "配信"},
	"ct.confirmed":       {"Confirmed", "完了確認"},
	"ct.webhook":         {"Webhook", "Webhook"},
	"ct.attempts":        {", %d attempts", "（送信%d回）"},
	"ct.retry":           {"Send again", "再送する"},
	"ct.none":            {"Nothing requested from the account system yet.", "アカウントシステムへの依頼はまだありません。"},
	"ct.request":         {"Request", "依頼する措置"},
	"ct.request.submit":  {"Request from the account system", "アカウントシステムに依頼する"},
	"ct.request.one":     {"Request %s…", "%sを依頼…"},
	"ct.lock.confirm":    {"The account system locks the holder out of their account.", "アカウントシステムが名義人のアカウントをロックします。"},
	"ct.contact.confirm": {"The account system contacts the holder through another channel.", "アカウントシステムが別の連絡手段で名義人に連絡します。"},
	"ct.undone":          {" This cannot be undone.", "元に戻せません。"},
	"ct.request.yes":     {"Yes, request %s", "はい、%sを依頼します"},

	"rep.match":  {"%s match by %s", "照合：%s（%s）"},
	"rep.from":   {"from", "送信元"},
	"rep.opened": {"opened a link", "リンクを開いた"},
	"rep.setpw":  {"set a password or entered details", "パスワードを設定した、または情報を入力した"},
	"rep.never":  {"never signed up", "登録した覚えがない"},

	"addr.title":         {"Addresses", "メールアドレス"},
	"addr.intro":         {"Addresses are personal data and masked. To see one, give the reason; it is written to the audit log, and the address shows here for %d minutes, to you only.", "メールアドレスは個人データのため伏せて表示しています。表示するには理由を入力してください。理由は監査ログに記録され、アドレスはあなたにだけ%d分間表示されます。"},
	"addr.address":       {"Address", "アドレス"},
	"addr.where":         {"Where", "出現箇所"},
	"addr.until":         {"until %s", "%sまで表示"},
	"addr.reveal":        {"Reveal…", "表示する…"},
	"addr.why":           {"Why you need to see it", "表示が必要な理由"},
	"addr.reveal.submit": {"Reveal", "表示する"},

	"mail.title":        {"Mail without a report", "報告にならなかったメール"},
	"mail.mailboxes":    {"Mailboxes", "メールボックス"},
	"mail.mailbox":      {"Mailbox", "メールボックス"},
	"mail.lastfetch":    {"Last successful fetch", "最終取得成功"},
	"mail.waiting":      {"Waiting", "未処理"},
	"mail.lasterror":    {"Last error", "直近のエラー"},
	"mail.intro":        {"Every mail the desk read is kept. These did not become reports; each says why. If one is a report after all, open a case from it.", "受信したメールはすべて保存しています。以下は報告として扱われなかったメールで、それぞれ理由を示しています。報告だった場合は、ここから案件を起票してください。"},
	"mail.filter.label": {"Filter by reason", "理由で絞り込み"},
	"mail.reason":       {"Reason", "理由"},
	"mail.subject":      {"Subject", "件名"},
	"mail.purged":       {"raw mail purged on %s", "原本は%sに削除済み"},
	"mail.kept":         {"raw mail kept", "原本を保存中"},
	"mail.noted":        {"noted on a case", "案件に記録済み"},
	"mail.open":         {"Open a case", "案件を起票する"},
	"mail.empty":        {"No mail here.", "該当するメールはありません。"},
	"mail.evidence":     {"View the evidence", "証跡を見る"},
	"mail.evidence.sr":  {" of mail %d", "（メール%d）"},

	"ack.to": {"%s to", "%s・宛先"},

	"ev.title":        {"Mail %d of case %s", "案件 %[2]s のメール %[1]d"},
	"ev.breadcrumb":   {"Breadcrumb", "パンくずリスト"},
	"ev.h1":           {"Mail evidence", "メールの証跡"},
	"ev.mailn":        {"mail %d", "メール %d"},
	"ev.received":     {"Received", "受信日時"},
	"ev.from":         {"From", "送信元"},
	"ev.class":        {"Class", "分類"},
	"ev.size":         {"Size", "サイズ"},
	"ev.purged":       {"Raw mail purged on %s. Retention removed the mail itself; what the desk found in it stays on the case.", "原本は%sに削除されました。保存期間により原本は削除されましたが、メールから見つかった情報は案件に残っています。"},
	"ev.noraw":        {"The desk kept no raw bytes of this mail.", "このメールの原本は保存されていません。"},
	"ev.masked":       {"Addresses are masked; to see one, reveal it on the ", "メールアドレスは伏せて表示しています。表示するには"},
	"ev.masked.link":  {"case page", "案件ページ"},
	"ev.masked.end":   {" (audited). Links in the mail are shown as text and never followed; images are not loaded.", "で表示操作をしてください（監査ログに記録されます）。メール内のリンクは文字として表示し、アクセスしません。画像も読み込みません。"},
	"ev.problems":     {"The mail is not well formed (%d problems)", "メールの形式に問題があります（%d件）"},
	"ev.headers":      {"Headers", "ヘッダー"},
	"ev.hname":        {"Name", "項目"},
	"ev.hvalue":       {"Value", "値"},
	"ev.text":         {"Text", "本文（テキスト）"},
	"ev.text.label":   {"Text of the mail", "メールの本文"},
	"ev.notext":       {"This mail has no plain-text part.", "このメールにはテキスト形式の本文がありません。"},
	"ev.html":         {"HTML, sanitized", "HTML（無害化済み）"},
	"ev.html.p":       {"Shown without scripts, styles, images, forms or links, in a frame that can run nothing.", "スクリプト・スタイル・画像・フォーム・リンクを取り除き、何も実行できない枠の中に表示しています。"},
	"ev.html.title":   {"HTML part of the mail, sanitized", "メールのHTML部分（無害化済み）"},
	"ev.fwd":          {"Forwarded original", "転送された元のメール"},
	"ev.fwd.inline":   {"Forwarded inline: the reporter's mail quotes it after a forward marker.", "本文中に転送：報告者のメールが転送の区切りの後に引用しています。"},
	"ev.fwd.attached": {"Attached to the reporter's mail as a message.", "報告者のメールにメッセージとして添付されています。"},
	"ev.fwd.text":     {"Text of the forwarded original", "転送された元のメールの本文"},
	"ev.fwd.html":     {"HTML of the forwarded original, sanitized", "転送された元のメールのHTML（無害化済み）"},
	"ev.att":          {"Attachments (%d)", "添付ファイル（%d件）"},
	"ev.att.p":        {"Each download is written to the audit log. Files are saved, never opened in the browser.", "ダウンロードはすべて監査ログに記録されます。ファイルはブラウザーで開かず、保存されます。"},
	"ev.name":         {"Name", "ファイル名"},
	"ev.type":         {"Type", "形式"},
	"ev.att.fwd":      {"(in the forwarded original)", "（転送された元のメール内）"},
	"ev.download":     {"Download", "ダウンロード"},
	// The viewer on /mail, for any kept mail, with or without a case.
	"ev.title.kept":  {"Mail %d", "メール %d"},
	"ev.case":        {"Case", "案件"},
	"ev.nocase":      {"none yet: this mail did not become a report", "なし（このメールは報告として扱われていません）"},
	"ev.open.p":      {"Read it first. If it is a report after all, open a case from it; the sender's address is still matched against the ledger.", "まず内容を確認してください。報告だった場合は、ここから案件を起票してください。送信元アドレスは台帳と照合されます。"},
	"ev.masked.kept": {"Addresses are masked; once a case is opened from this mail, they can be revealed on its page (audited). Links in the mail are shown as text and never followed; images are not loaded.", "メールアドレスは伏せて表示しています。このメールから案件を起票すると、案件ページで表示操作ができます（監査ログに記録されます）。メール内のリンクは文字として表示し、アクセスしません。画像も読み込みません。"},
	"ev.purged.kept": {"Raw mail purged on %s. Retention removed the mail itself; what the desk recorded of it (sender, subject, reason) stays here.", "原本は%sに削除されました。保存期間により原本は削除されましたが、送信元・件名・理由の記録はここに残っています。"},
	"mail.nosubject": {"(no subject)", "（件名なし）"},

	"leads.title":        {"Leads", "リーダー"},
	"leads.stale":        {"Mailboxes not read", "読み取れていないメールボックス"},
	"leads.lastfetch":    {"last successful fetch", "最終取得成功"},
	"leads.stale.p":      {"Reports sent by mail are waiting. See ", "メールで届いた報告が処理待ちです。詳しくは"},
	"leads.stale.end":    {".", "をご覧ください。"},
	"leads.h1":           {"Escalations", "エスカレーション"},
	"leads.none":         {"No open escalations.", "対応中のエスカレーションはありません。"},
	"leads.breaches":     {"SLA breaches", "SLA違反"},
	"leads.deadline":     {"Deadline", "期限"},
	"leads.wasdue":       {"Was due", "期限日時"},
	"leads.nobreach":     {"No deadline has passed unmet.", "未達のまま過ぎた期限はありません。"},
	"leads.dead":         {"Containment webhooks given up on", "配信を断念した封じ込めWebhook"},
	"leads.dead.p":       {"The account system did not take these; open the case to send one again.", "アカウントシステムが受け付けなかった依頼です。案件を開いて再送してください。"},
	"leads.dead.since":   {"%d attempts since %s", "%[2]s以降 %[1]d回送信"},
	"leads.tta":          {"Time from report to containment", "報告から封じ込めまでの時間"},
	"leads.tta.window":   {"Cases contained in the last", "封じ込めた期間"},
	"leads.tta.n":        {"Cases", "件数"},
	"leads.tta.p50":      {"Median (p50)", "中央値（p50）"},
	"leads.days":         {"%d days", "直近%d日"},
	"leads.tta.p":        {"From a case's opening to its first move to contained.", "案件の起票から、最初に封じ込め済みになるまでの時間です。"},
	"leads.perday":       {"Reports per day", "日別の報告数"},
	"leads.noreports":    {"No reports in the last 30 days.", "直近30日間の報告はありません。"},
	"leads.astable":      {"The same numbers as a table", "同じ数値を表で見る"},
	"leads.caption":      {"Reports per day by message kind, last 30 days (%d in all)", "メール種別ごとの日別報告数、直近30日間（合計%d件）"},
	"leads.day":          {"Day (UTC)", "日付（UTC）"},
	"leads.all":          {"All", "合計"},
	"leads.patterns":     {"Patterns", "傾向"},
	"leads.repeatrep":    {"One reporter address on several cases", "複数の案件に現れる報告者アドレス"},
	"leads.repeatacc":    {"One account with several cases", "複数の案件があるアカウント"},
	"leads.cluster":      {"Cases clustered on one recipient domain", "同じ宛先ドメインに集中する案件"},
	"leads.cluster.when": {"(3 or more in 24 hours)", "（24時間に3件以上）"},
	"leads.last30":       {"(last 30 days)", "（直近30日間）"},
	"leads.ncases":       {"%d cases", "%d件"},
	"leads.reveals":      {"Who revealed personal data", "個人データの表示履歴"},
	"leads.which":        {"Which address, and why", "表示したアドレスと理由"},
	"leads.noreveals":    {"Nobody has revealed an address.", "アドレスを表示した人はいません。"},

	"chart.title":   {"Reports per day by message kind, last %d days", "メール種別ごとの日別報告数（直近%d日間）"},
	"chart.summary": {"%d reports in all; the most on %s (%d).", "合計%d件。最多は%s（%d件）。"},
	"chart.none":    {"No reports.", "報告はありません。"},
	"chart.table":   {" The same numbers are in the table below.", "同じ数値を下の表でも確認できます。"},

	"admin.title":   {"Admin", "管理"},
	"admin.h1":      {"Staff", "スタッフ"},
	"admin.email":   {"Email", "メールアドレス"},
	"admin.role":    {"Role", "役割"},
	"admin.trained": {"Security-trained", "セキュリティ研修済み"},
	"admin.since":   {"Since", "登録日時"},
	"admin.untrain": {"Remove security-trained", "研修済みを取り消す"},
	"admin.train":   {"Mark security-trained", "研修済みにする"},
	"admin.add":     {"Add staff with", "スタッフの追加は"},
	"admin.add.end": {".", " で行います。"},
	"admin.audit":   {"Audit log", "監査ログ"},
	"admin.what":    {"What", "操作"},
	"admin.whom":    {"Whom", "対象"},
	"admin.noaudit": {"Nothing audited yet.", "監査ログはまだありません。"},

	// Adding staff by invitation (ui/invite.go).
	"admin.add.h2":          {"Add staff", "スタッフを追加"},
	"admin.add.intro":       {"The new staff member gets a link that works once, for 3 days, and sets their own password with it; nobody else ever knows it. Send them the link yourself: the desk does not mail it.", "新しいスタッフ用に、1回だけ・3日間有効な招待リンクを発行します。本人がこのリンクから自分でパスワードを設定するので、本人以外がパスワードを知ることはありません。リンクはご自身で本人に送ってください（デスクからはメールしません）。"},
	"admin.add.trained":     {"Security-trained (may work security cases)", "セキュリティ研修済み（セキュリティ案件を担当できる）"},
	"admin.add.submit":      {"Create invitation link", "招待リンクを発行"},
	"admin.add.bademail":    {"That is not an email address.", "メールアドレスの形式になっていません。"},
	"admin.add.badrole":     {"Choose a role: agent, lead or admin.", "役割（担当者・リーダー・管理者）を選んでください。"},
	"admin.add.exists":      {"%s is staff already.", "%s はすでにスタッフとして登録されています。"},
	"admin.invited":         {"Invitation for %s (%s) created. Send this link to them; it works once and expires %s.", "%s（%s）への招待リンクを発行しました。このリンクを本人に送ってください。使えるのは1回だけで、有効期限は %s です。"},
	"admin.invited.link":    {"Invitation link", "招待リンク"},
	"admin.invited.once":    {"The link is shown only now. If it is lost, invite the same address again: the new link replaces it.", "このリンクが表示されるのは今だけです。なくした場合は同じアドレスをもう一度招待してください。新しいリンクに置き換わります。"},
	"admin.invites":         {"Invitations not yet used", "未使用の招待"},
	"admin.invites.expires": {"link expires %s", "リンクの有効期限: %s"},
	"admin.invites.trained": {"security-trained", "セキュリティ研修済み"},
	"admin.invites.again":   {"Inviting an address again replaces its earlier link.", "同じアドレスをもう一度招待すると、前のリンクは使えなくなります。"},

	"admin.audit.role":      {"role: %s", "役割: %s"},
	"admin.audit.trained":   {"security-trained: %s", "セキュリティ研修済み: %s"},
	"admin.audit.invitedby": {"invited by %s", "招待者: %s"},

	"invite.title":         {"Set your password", "パスワードの設定"},
	"invite.intro":         {"You are invited to the notme desk as %s (%s). Choose your password; you log in with this email address and it.", "notme デスクに %s（%s）として招待されています。パスワードを決めてください。以後、このメールアドレスとパスワードでログインします。"},
	"invite.password":      {"New password (at least %d characters)", "新しいパスワード（%d文字以上）"},
	"invite.again":         {"The same password again", "確認のため、もう一度入力"},
	"invite.submit":        {"Set password", "パスワードを設定"},
	"invite.short":         {"The password must be at least %d characters.", "パスワードは%d文字以上にしてください。"},
	"invite.mismatch":      {"The two passwords differ. Please type them again.", "2つのパスワードが一致しません。もう一度入力してください。"},
	"invite.invalid.title": {"This invitation link does not work", "この招待リンクは使えません"},
	"invite.invalid":       {"It has been used already, replaced by a newer link, or has expired. Ask an admin for a new one.", "使用済み、新しいリンクへの置き換え、または期限切れのいずれかです。管理者に新しい招待リンクを依頼してください。"},
	"login.invited":        {"Your password is set. Log in with your email address and the new password.", "パスワードを設定しました。メールアドレスと新しいパスワードでログインしてください。"},

	"confirm.title":      {"Please confirm", "確認してください"},
	"confirm.h1":         {"Please confirm: %s", "確認：%s"},
	"confirm.why":        {"This cannot be undone, so it needs a second, explicit confirmation. Nothing has changed yet.", "元に戻せない操作のため、改めて明示的な確認が必要です。まだ何も変更されていません。"},
	"confirm.reason":     {"Reason:", "理由："},
	"confirm.yes":        {"Yes, %s", "はい、実行します（%s）"},
	"confirm.back":       {"No, go back", "いいえ、戻ります"},
	"confirm.resolve":    {"resolve case %s", "案件 %s を解決する"},
	"confirm.dismiss":    {"dismiss case %s", "案件 %s を対応不要として終了する"},
	"confirm.deescalate": {"de-escalate case %s", "案件 %s のエスカレーションを解除する"},
	"confirm.request":    {"request %s for case %s", "案件 %[2]s で %[1]s を依頼する"},

	"outbox.title":    {"Demo outbox", "デモ用送信箱"},
	"outbox.intro":    {"In the demo, mail the desk sends lands here instead of the reporter's mailbox.", "デモでは、デスクが送るメールは報告者のメールボックスではなく、ここに届きます。"},
	"outbox.to":       {"To", "宛先"},
	"outbox.envelope": {"envelope from", "エンベロープ送信者"},
	"outbox.raw":      {"The whole mail as sent", "送信したメール全体"},
	"outbox.empty":    {"Nothing sent yet. Acknowledgements appear here a moment after a report mail is read.", "まだ何も送信されていません。報告メールを読み取ると、まもなく受付通知がここに表示されます。"},

	"err.untrained":     {"Your account, %s, does not have the ", "あなたのアカウント（%s）には「"},
	"err.flag":          {"security-trained", "セキュリティ研修済み"},
	"err.untrained.end": {" flag, which working cases needs. Ask an admin to grant it on the Admin page.", "」の権限がないため、案件を担当できません。管理者に、管理画面で権限を付与するよう依頼してください。"},
}

// staffOne is the English singular of a staff message, used when its first
// argument is 1; Japanese has no plural.
var staffOne = map[string]string{
	"bytes":         "1 byte",
	"queue.found":   "1 case found by ",
	"queue.caption": "1 case, most urgent first",
	"ct.attempts":   ", 1 attempt",
	"ev.problems":   "The mail is not well formed (1 problem)",
}

// valueMessages name stored values (statuses, severities, channels,
// containment actions…) for people: in English most read as stored, but an
// id with underscores reads as words. A value not here shows as stored.
var valueMessages = map[string]struct{ en, ja string }{
	string(cases.SeverityCritical): {"critical", "緊急"},
	string(cases.SeverityHigh):     {"high", "高"},
	string(cases.SeverityNormal):   {"normal", "中"},
	string(cases.SeverityLow):      {"low", "低"},

	string(cases.StatusNew):       {"new", "新規"},
	string(cases.StatusContained): {"contained", "封じ込め済み"},
	string(cases.StatusResolved):  {"resolved", "解決済み"},
	string(cases.StatusDismissed): {"dismissed", "対応不要で終了"},

	string(cases.MatchExact):     {"exact", "確定"},
	string(cases.MatchProbable):  {"probable", "推定"},
	string(cases.MatchUnmatched): {"unmatched", "未照合"},

	string(cases.ChannelLink): {"link", "リンク"},
	string(cases.ChannelMail): {"mail", "メール"},
	string(cases.ChannelForm): {"form", "フォーム"},
	string(cases.ChannelAPI):  {"api", "API"},
	"token":                   {"token", "トークン"},
	"ledger":                  {"ledger", "台帳"},
	"case-ref":                {"case-ref", "受付番号"},
	"recipient":               {"recipient", "宛先アドレス"},
	"none":                    {"none", "なし"},
	cases.TierSecurity:        {"security", "セキュリティ"},

	cases.FoundByRef:       {"reference", "受付番号"},
	cases.FoundByMessageID: {"Message-ID", "Message-ID"},
	cases.FoundByAccount:   {"account", "アカウント参照"},
	cases.FoundByReporter:  {"reporter", "報告者アドレス"},

	cases.DeadlineContain: {"contain", "封じ込め"},
	cases.DeadlineResolve: {"resolve", "解決"},
	cases.DeadlineAssess:  {"assess", "漏えい評価"},

	cases.ActionRevokePendingLinks:    {"revoke pending links", "未使用リンクの無効化"},
	cases.ActionSuppressRecipient:     {"suppress mail to the address", "宛先への送信停止"},
	cases.ActionRequireReverification: {"require re-verification", "メールアドレスの再確認"},
	cases.ActionLockAccount:           {"lock the account", "アカウントのロック"},
	cases.ActionContactOwner:          {"contact the holder another way", "別経路での名義人への連絡"},
	cases.ActionRequested:             {"requested", "依頼済み"},
	cases.ActionDelivered:             {"delivered", "配信済み"},
	cases.ActionConfirmed:             {"confirmed", "完了"},
	cases.ActionFailed:                {"failed", "失敗"},
	cases.DeliveryPending:             {"pending", "送信待ち"},
	cases.DeliveryDead:                {"dead", "配信断念"},

	cases.AckKindReceived: {"received", "受付通知"},
	cases.AckKindOutcome:  {"outcome", "結果通知"},
	cases.AckSent:         {"sent", "送信済み"},
	cases.AckSuppressed:   {"suppressed", "送信抑止"},
	// The language an acknowledgement was written in.
	"en": {"en", "英語"},
	"ja": {"ja", "日本語"},

	cases.ClassReport:      {"report", "報告"},
	cases.ClassAutoReply:   {"auto-reply", "自動返信"},
	cases.ClassBounce:      {"bounce", "エラーメール"},
	cases.ClassARF:         {"arf", "ARF苦情報告"},
	cases.ClassUnrelated:   {"unrelated", "無関係"},
	cases.ReasonLoop:       {"loop", "ループ"},
	cases.ReasonDuplicate:  {"duplicate", "重複"},
	cases.ReasonUnparsable: {"unparsable", "解析不能"},
	cases.ReasonTooLarge:   {"too-large", "サイズ超過"},

	"notifiable":     {"notifiable", "報告対象"},
	"not_notifiable": {"not notifiable", "報告対象外"},

	string(cases.RoleAgent): {"agent", "担当者"},
	string(cases.RoleLead):  {"lead", "リーダー"},
	string(cases.RoleAdmin): {"admin", "管理者"},
}

// staffText formats the staff message key in lang with args (fmt verbs).
// English takes staffOne's singular when the first argument is 1.
func staffText(lang, key string, args ...any) string {
	if lang != langJA && len(args) > 0 && args[0] == 1 {
		if one, ok := staffOne[key]; ok {
			return one
		}
	}
	s := tr(lang, key)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// staffValue names a stored value for people in lang.
func staffValue(lang string, value any) string {
	s := fmt.Sprint(value)
	m, ok := valueMessages[s]
	switch {
	case !ok:
		return s
	case lang == langJA:
		return m.ja
	}
	return m.en
}

// keepStaffLang remembers a staff member's ?lang= choice in the lang
// cookie, so every later page follows it without a query string.
func (s *Server) keepStaffLang(c echo.Context, lang string) {
	if q := c.QueryParam("lang"); q != langJA && q != langEN {
		return
	}
	if ck, err := c.Cookie(langCookie); err == nil && ck.Value == lang {
		return
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int(365 * 24 * time.Hour / time.Second),
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// switchURL is this page in lang: the same path and query (a queue's
// filters stay), lang replaced; the login page's next only if it is local.
func switchURL(c echo.Context, lang string) string {
	q := c.Request().URL.Query()
	if n := q.Get("next"); n != "" {
		q.Set("next", localPath(n))
	}
	q.Set("lang", lang)
	q.Del("done") // the confirmation was said once; switching language does not repeat it
	return c.Request().URL.Path + "?" + q.Encode()
}

// domainMessagesJA are the domain's messages staff meet most often, in
// Japanese. Any other message of cases shows in English: a full catalog
// would belong in cases, with the message keys that it does not have yet.
var domainMessagesJA = map[string]string{
	"Security cases are handled by security-trained staff only. Ask an admin if you should have access.": "セキュリティ案件を扱えるのは、セキュリティ研修を受けたスタッフだけです。アクセスが必要な場合は管理者にご相談ください。",
	"This page is for leads and admins only.":                                                            "このページはリーダーと管理者専用です。",
	"This page is for admins only.":                                                                      "このページは管理者専用です。",
	"Type a case reference, a Message-ID, an account ref or a reporter's address.":                       "受付番号、Message-ID、アカウント参照、または報告者のメールアドレスを入力してください。",
	"That is not a case reference, Message-ID, account ref or address.":                                  "受付番号、Message-ID、アカウント参照、メールアドレスのいずれの形式でもありません。",
	"This case is closed.": "この案件は終了しています。",
	"This case is someone else's; ask a security lead to reassign it.":        "この案件は別の担当者のものです。担当の変更はセキュリティリーダーに依頼してください。",
	"Someone else assigned this case just now; reload and try again.":         "たった今、別の人がこの案件を割り当てました。再読み込みしてからもう一度お試しください。",
	"Other agents are taking cases right now; try again.":                     "ほかの担当者が案件を取得中です。もう一度お試しください。",
	"This case is escalated already.":                                         "この案件はすでにエスカレーションされています。",
	"This case is not escalated.":                                             "この案件はエスカレーションされていません。",
	"Confirm the match to an account first: containment acts on the account.": "先にアカウントとの照合を確定してください。封じ込めはアカウントに対して行います。",
	"Only security leads can assign a case to someone else.":                  "ほかの人に案件を割り当てられるのはセキュリティリーダーだけです。",
	"Only security leads can de-escalate a case.":                             "エスカレーションを解除できるのはセキュリティリーダーだけです。",
	"Only security leads can record a breach assessment.":                     "漏えい評価を記録できるのはセキュリティリーダーだけです。",
	"Only admins can change who is security-trained.":                         "研修済みの設定を変更できるのは管理者だけです。",
}

// domainMessage is a message of cases in lang where domainMessagesJA
// has it, else as written.
func domainMessage(lang, msg string) string {
	if ja, ok := domainMessagesJA[msg]; ok && lang == langJA {
		return ja
	}
	return msg
}

// kindLabelOf names a message kind for staff reading lang.
func kindLabelOf(lang string, k cases.Kind) string {
	if lang == langJA && k.LabelJA != "" {
		return k.LabelJA
	}
	return k.Label
}

// addressWhereJA reads the places cases.CaseAddresses names ("reporter
// of report 12", …) in Japanese.
var addressWhereJA = []struct {
	re *regexp.Regexp
	ja string
}{
	{regexp.MustCompile(`^reporter of report (\d+)$`), "報告${1}の報告者"},
	{regexp.MustCompile(`^recipient of the mail in report (\d+)$`), "報告${1}のメールの宛先"},
	{regexp.MustCompile(`^sender of mail (\d+)$`), "メール${1}の送信元"},
	{regexp.MustCompile(`^recipient of received notice (\d+)$`), "受付通知${1}の宛先"},
	{regexp.MustCompile(`^recipient of outcome notice (\d+)$`), "結果通知${1}の宛先"},
}

// addressWhere names where an address appears, in lang.
func addressWhere(lang, where string) string {
	if lang != langJA {
		return where
	}
	for _, w := range addressWhereJA {
		if w.re.MatchString(where) {
			return w.re.ReplaceAllString(where, w.ja)
		}
	}
	return where
}

// eventLabelsJA are the timeline's labels in Japanese.
var eventLabelsJA = map[string]string{
	cases.EventOpened:               "起票",
	cases.EventReportAdded:          "報告",
	cases.EventSeverityRaised:       "重大度",
	cases.EventMatchImproved:        "照合",
	cases.EventUndeliverable:        "配信不能",
	cases.EventMatchConfirmed:       "照合確定",
	cases.EventContainmentRequested: "封じ込め",
	cases.EventContainmentDelivered: "Webhook配信",
	cases.EventContainmentResult:    "封じ込め結果",
	cases.EventWebhookDead:          "Webhook失敗",
	cases.EventWebhookRetried:       "Webhook再送",
	cases.EventAssigned:             "割り当て",
	cases.EventNote:                 "メモ",
	cases.EventStatus:               "状態",
	cases.EventOutcomeQueue:         "結果通知",
	cases.EventEscalated:            "エスカレーション",
	cases.EventDeescalated:          "エスカレーション解除",
	cases.EventReopened:             "再開",
	cases.EventEvidencePurged:       "証跡削除",
	cases.EventSLABreached:          "SLA違反",
	cases.EventAssessed:             "漏えい評価",
	cases.EventNewEvidence:          "新たな証拠",
}

// eventLabelIn names an event type in lang; English for one not listed.
func eventLabelIn(lang, typ string) string {
	if l, ok := eventLabelsJA[typ]; ok && lang == langJA {
		return l
	}
	if lang == langJA && strings.TrimSpace(typ) == "" {
		return "イベント"
	}
	return eventLabel(typ)
}
