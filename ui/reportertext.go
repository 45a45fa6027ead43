package ui

// reporterMessages is the catalog of the reporter pages (/, /r/{token},
// /report) and of the error pages, kept apart from the status page's
// messages so that each page's wording can be read in one place. tr looks
// here after messages; a test checks that every key has both languages and
// that no key is in both maps.
var reporterMessages = map[string]struct{ en, ja string }{
	"home.title":  {"Got an email that was meant for someone else?", "ほかの方あてのメールが届きましたか？"},
	"home.thanks": {"Thank you for telling us. You do not need to give your name, phone number or any account details.", "お知らせいただきありがとうございます。お名前・電話番号・アカウント情報などをお伝えいただく必要はありません。"},
	"home.link":   {"If the email has a “This isn’t me” link, open it: that is the quickest way.", "メールに「心当たりがない」リンクがあれば、それを開いてください。いちばん早い方法です。"},

	// The mailbox address stands between before and after.
	"home.forward.before": {"Or forward the email to", "または、そのメールを"},
	"home.forward.after":  {".", " あてに転送してください。"},

	"home.report": {"Or paste the email or upload it here", "または、こちらでメールを貼り付けるかファイルを選んでください"},
	"home.staff":  {"Staff:", "担当者の方："},
	"home.login":  {"log in", "ログイン"},

	"link.title":  {"Was this email meant for someone else?", "このメールはほかの方あてのものでしたか？"},
	"link.intro":  {"Thank you for letting us know. One click is enough: our security team will look into it, and your status page will say what was done. We will not ask who you are.", "お知らせいただきありがとうございます。ボタンを押すだけで完了です。セキュリティ担当チームが確認し、行った対応は状況ページでお知らせします。あなたがどなたかをお尋ねすることはありません。"},
	"link.more":   {"Tell us more (optional)", "詳しく伝える（任意）"},
	"link.legend": {"Did any of these happen?", "次のようなことはありましたか？"},
	"link.opened": {"I opened a link in it", "メール内のリンクを開いた"},
	"link.setpw":  {"I set a password or entered details", "パスワードを設定した、または情報を入力した"},
	"link.never":  {"I never signed up for anything here", "このサービスに登録した覚えはない"},
	"link.note":   {"A short note (optional, up to 2,000 characters)", "ひとこと（任意、2,000文字まで）"},
	"link.send":   {"This email isn’t for me", "このメールは私あてではありません"},
	"link.after":  {"Please do not include your own personal details. Opening this page changed nothing; only the button sends a report.", "ご自身の個人情報は書かないでください。このページを開いただけでは何も送信されていません。ボタンを押したときだけ報告が送られます。"},

	// %s is desk.company (desk.company_ja on Japanese pages).
	"link.title.company": {"Was this email from %s meant for someone else?", "%sからのこのメールは、ほかの方あてのものでしたか？"},

	"form.note": {"Your note is longer than we can take (at most 2,000 characters). Please shorten it and send again; everything else you entered is still here.", "ひとことが長すぎるため受け付けられませんでした（2,000文字まで）。短くしてもう一度お送りください。ほかの入力内容はそのまま残っています。"},

	"report.title":      {"Report an email that was not meant for you", "届いたメールについて報告する"},
	"report.intro":      {"Paste the email, or only its headers, or choose the saved email (.eml file). We use it only to find which account it belongs to. You do not need to tell us who you are.", "メール全体またはヘッダーだけを貼り付けるか、保存したメール（.emlファイル）を選んでください。どのアカウントのメールかを調べるためだけに使います。あなたがどなたかをお伝えいただく必要はありません。"},
	"report.paste":      {"The email or its headers", "メールまたはヘッダー"},
	"report.paste.hint": {"In most mail apps: open the email, choose “Show original” or “View source”, copy everything and paste it here.", "多くのメールアプリでは、メールを開いて「メッセージのソースを表示」や「原文を表示」を選び、すべてコピーして貼り付けられます。"},
	"report.file":       {"Or choose the saved email (.eml, up to 5 MB)", "または保存したメールを選ぶ（.eml、5 MBまで）"},
	"report.check":      {"Check this email", "メールを確認する"},
	"report.step1":      {"Step 1 of 2: nothing is sent to our team yet.", "手順1／2：この段階ではまだ報告は送られません。"},
	"report.empty":      {"We did not receive any email text. Please paste the email or its headers, or choose a saved .eml file.", "メールの内容が届いていません。メールまたはヘッダーを貼り付けるか、保存した.emlファイルを選んでください。"},
	"report.toobig":     {"This file is larger than 5 MB, more than we can take. The headers are all we need: please paste them into the box instead.", "ファイルが5 MBを超えているため受け付けられませんでした。必要なのはヘッダーだけですので、代わりにヘッダーを貼り付けてください。"},
	"report.badfile":    {"We could not read that file. Please paste the email’s headers into the box instead.", "ファイルを読み込めませんでした。代わりにメールのヘッダーを貼り付けてください。"},
	"report.step2":      {"Step 2 of 2: please check, then send.", "手順2／2：内容をご確認のうえ、送信してください。"},
	"report.found":      {"We found the email", "該当するメールが見つかりました"},
	"report.found.p":    {"It is one of the emails we look after, so our security team can act on it as soon as you send this report.", "私たちが管理しているメールですので、報告を送っていただければセキュリティ担当チームがすぐに対応できます。"},
	"report.found.sent": {"Sent by us on", "送信日時"},
	"report.notfound":   {"We could not tell which email this is", "どのメールかを特定できませんでした"},
	"report.notfound.p": {"That is all right: you can still send it, and our team will look into it by hand.", "それでも大丈夫です。このまま送っていただければ、担当チームが確認します。"},
	"report.note":       {"A short note (optional, up to 2,000 characters)", "ひとこと（任意、2,000文字まで）"},
	"report.send":       {"Send report", "報告を送る"},
	"report.again":      {"Use a different email", "別のメールで確認する"},
	"report.kept":       {"We keep only the references needed to find the account, not the rest of the email.", "保存するのはアカウントを探すために必要な情報だけで、メールのほかの内容は保存しません。"},

	// The status page's outcomes (cases.ReporterOutcome) and the confirmed
	// facts beside them; docs/reporter-status.md tables when each is shown.
	"outcome.received":     {"Received. Our security team will look at it shortly.", "受け付けました。セキュリティ担当チームが間もなく確認します。"},
	"outcome.handling":     {"Being handled by our security team.", "セキュリティ担当チームが対応中です。"},
	"outcome.removed":      {"Done. The company has confirmed that your address was removed from the account, so its mail should no longer reach you. If it still does, please report it again.", "対応が完了しました。このメールアドレスをアカウントから削除したことを、送信元の会社が確認しました。今後、このアカウントのメールは届かなくなるはずです。それでも届く場合は、お手数ですが改めてご報告ください。"},
	"outcome.not_removed":  {"Closed. Our team has finished with your report, but the removal of your address from the account has not been confirmed to us. If its mail keeps arriving, please report it again.", "このご報告への対応を終了しました。ただし、このメールアドレスがアカウントから削除されたことは確認できていません。このアカウントのメールが引き続き届く場合は、お手数ですが改めてご報告ください。"},
	"outcome.no_change":    {"Closed. Our team looked into your report and asked for no change to the account. If mail that is not meant for you keeps arriving, please report it again.", "確認の結果、このご報告への対応を終了しました。アカウントの変更は依頼していません。あなた宛てでないメールが引き続き届く場合は、お手数ですが改めてご報告ください。"},
	"outcome.unlinked":     {"Closed. We could not link your report to an account, so nothing was changed. If mail that is not meant for you keeps arriving, please report it again.", "このご報告への対応を終了しました。ご報告をどのアカウントとも結び付けられなかったため、何も変更していません。あなた宛てでないメールが引き続き届く場合は、お手数ですが改めてご報告ください。"},
	"outcome.unconfirmed":  {"Closed. We could not confirm which account your report is about, so we cannot tell you that anything changed for your address. If mail that is not meant for you keeps arriving, please report it again.", "このご報告への対応を終了しました。ご報告がどのアカウントに関するものかを確認できなかったため、このメールアドレスについて変更があったとはお伝えできません。あなた宛てでないメールが引き続き届く場合は、お手数ですが改めてご報告ください。"},
	"fact.address_removed": {"The company has confirmed that your address was removed from the account.", "このメールアドレスをアカウントから削除したことを、送信元の会社が確認しました。"},
	"fact.links_revoked":   {"The company has confirmed that the links in that email no longer work.", "そのメール内のリンクを無効にしたことを、送信元の会社が確認しました。"},

	"status.link":      {"Open this page", "このページを開く"},
	"status.copy":      {"Copy the address", "アドレスをコピー"},
	"status.copied":    {"Copied", "コピーしました"},
	"status.copy.hint": {"Select the address in the box and copy it, or bookmark this page.", "枠内のアドレスを選択してコピーするか、このページをブックマークしてください。"},
	"status.copy.back": {"Back to your report", "ご報告の状況に戻る"},
	"status.noline":    {"Keep the reference above: it is all anyone needs to find your report.", "上記の受付番号を控えておいてください。この番号だけでご報告を確認できます。"},
	"contact.form":     {"Contact form: ", "お問い合わせフォーム："},
	"contact.phone":    {"Phone: ", "電話："},
	"contact.hours":    {" (%s)", "（%s）"},

	"err.404.title":   {"We can't find this page", "ページが見つかりません"},
	"err.404.body":    {"The address may be mistyped, or the page has moved.", "アドレスが正しくないか、ページが移動した可能性があります。"},
	"err.500.title":   {"Something went wrong on our side", "こちらで問題が発生しました"},
	"err.500.body":    {"This is not something you did. If you saw a reference number, your report is safe with us; otherwise please try again in a few minutes.", "お客様の操作が原因ではありません。受付番号が表示されていれば、ご報告は受け付けています。表示されていない場合は、数分後にもう一度お試しください。"},
	"err.403.title":   {"You don't have access to this", "このページは表示できません"},
	"err.401.title":   {"Please log in", "ログインしてください"},
	"err.405.title":   {"This page can't do that", "この操作はできません"},
	"err.405.body":    {"Please use the page's own buttons and links.", "ページ内のボタンやリンクをお使いください。"},
	"err.413.title":   {"That was too large", "送信内容が大きすぎます"},
	"err.413.body":    {"What you sent is larger than this page accepts. Please send less, or only the email's headers.", "送信内容がこのページで受け付けられる大きさを超えています。量を減らすか、メールのヘッダーだけをお送りください。"},
	"err.csrf.title":  {"This form has expired", "フォームの有効期限が切れました"},
	"err.csrf.body":   {"For your safety, forms are only accepted from this site and for a limited time. Please go back, reload the page and send it again.", "安全のため、このサイトから一定時間内に送られたフォームだけを受け付けています。前のページに戻り、再読み込みしてからもう一度お送りください。"},
	"err.429.title":   {"Too many reports at once", "短時間に多くの報告が届いています"},
	"err.429.body":    {"We received many reports from your network in a short time. Nothing you sent before is lost. Please wait a minute and try again.", "お使いのネットワークから短時間に多くの報告が届いたため、一時的に受付を止めています。これまでにお送りいただいた報告は失われていません。1分ほど待ってから、もう一度お試しください。"},
	"err.other.title": {"We could not do that", "この操作を完了できませんでした"},
	"err.other.body":  {"Please go back and try again.", "前のページに戻り、もう一度お試しください。"},
}
