package inbox

import "strings"

// ackText is the desk's mail to a reporter in one language. The texts say
// only what the desk did with the report: nothing about the account holder
// (name, account, kind of mail) ever goes into them, and nothing asks the
// reporter who they are.
type ackText struct {
	lang string // Content-Language (RFC 3282)
	// noSubject stands in for the subject when the report had none.
	noSubject string
	refLabel  string
	// received acknowledges a report mail; outcome tells that its case is done.
	received, outcome ackBody
}

// ackBody is one text: intro comes before the case reference, status
// before the status URL, rest after it; statusMissing replaces status and
// the URL when there is no URL to give.
type ackBody struct {
	intro, status, statusMissing, rest []string
}

// The Japanese lines are broken by hand at about 35 full-width characters,
// the convention of Japanese mail; the English ones at 72 columns. The URL
// stands on a line of its own so that clients link it, even in Japanese
// text where no space separates it from the words around it.
var (
	ackEnglish = ackText{
		lang:      "en",
		noSubject: "We received your report",
		refLabel:  "Your case reference: ",
		received: ackBody{
			intro: []string{
				"Thank you for telling us.",
				"",
				"We have received your report about an email that was meant for",
				"someone else. You did nothing wrong by receiving it, and we are",
				"now dealing with it.",
			},
			status: []string{
				"You can follow your report on this private page (please do not",
				"share the link):",
			},
			statusMissing: []string{
				"Please quote the case reference if you write to us about it.",
			},
			rest: []string{
				"You don't need to do anything else, and you don't need to call us.",
				"You can delete the email you received.",
				"",
				"If you opened a link in that email or entered any details, please",
				"reply and tell us. It helps us protect the account, and you are not",
				"to blame.",
				"",
				"This is an automatic reply. Replies to it reach our security team;",
				"please keep the case reference in the subject.",
			},
		},
		outcome: ackBody{
			intro: []string{
				"Thank you again for telling us about an email that was meant for",
				"someone else. We have finished dealing with your report.",
			},
			status: []string{
				"Its final status is on your private page (please do not share the",
				"link):",
			},
			statusMissing: []string{
				"Please quote the case reference if you write to us about it.",
			},
			rest: []string{
				"You don't need to do anything. If such an email reaches you again,",
				"just reply to it or forward it to us as before.",
				"",
				"This is an automatic message. Replies to it reach our security",
				"team; please keep the case reference in the subject.",
			},
		},
	}
	ackJapanese = ackText{
		lang:      "ja",
		noSubject: "ご報告を受け付けました",
		refLabel:  "受付番号: ",
		received: ackBody{
			intro: []string{
				"ご連絡いただき、ありがとうございます。",
				"",
				"本来ほかの方に宛てたメールがお客様に届いてしまった件について、",
				"ご報告を受け付けました。お客様に落ち度はございません。",
				"ご迷惑をおかけし、申し訳ございません。現在、対応を進めております。",
			},
			status: []string{
				"対応状況は、次のお客様専用ページでご確認いただけます",
				"（このリンクはほかの方と共有しないでください）。",
			},
			statusMissing: []string{
				"お問い合わせの際は、受付番号をお知らせください。",
			},
			rest: []string{
				"これ以上のお手続きは不要です。お電話をいただく必要もございません。",
				"届いたメールは削除していただいて構いません。",
				"",
				"もし、そのメール内のリンクを開いたり、何かを入力したりされた場合は、",
				"このメールへの返信でお知らせください。アカウントの保護に役立ちます。",
				"お客様が責任を問われることはございません。",
				"",
				"このメールは自動送信です。このメールへのご返信は、",
				"当社のセキュリティ担当者に届きます。",
				"件名の受付番号は変えずにお送りください。",
			},
		},
		outcome: ackBody{
			intro: []string{
				"先日は、ほかの方に宛てたメールについてご連絡いただき、",
				"ありがとうございました。ご報告いただいた件の対応が完了しました。",
			},
			status: []string{
				"最終的な対応状況は、次のお客様専用ページでご確認いただけます",
				"（このリンクはほかの方と共有しないでください）。",
			},
			statusMissing: []string{
				"お問い合わせの際は、受付番号をお知らせください。",
			},
			rest: []string{
				"お客様にしていただくことはございません。",
				"万一また同様のメールが届いた場合は、これまでと同様に",
				"ご返信または転送でお知らせください。",
				"",
				"このメールは自動送信です。このメールへのご返信は、",
				"当社のセキュリティ担当者に届きます。",
				"件名の受付番号は変えずにお送りください。",
			},
		},
	}
)

// ackTextFor picks the reporter's language: Japanese for "ja" (and "ja-JP"),
// English otherwise.
func ackTextFor(lang string) ackText {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "ja" || strings.HasPrefix(l, "ja-") || strings.HasPrefix(l, "ja_") {
		return ackJapanese
	}
	return ackEnglish
}

// render writes the text with CRLF line ends, the canonical form of
// text/plain (RFC 2046 section 4.1.1) that base64 must carry as is.
func (t ackText) render(b ackBody, caseRef, statusURL string) string {
	var sb strings.Builder
	lines := func(ls ...string) {
		for _, l := range ls {
			sb.WriteString(l)
			sb.WriteString("\r\n")
		}
	}
	lines(b.intro...)
	lines("", t.refLabel+caseRef, "")
	if statusURL != "" {
		lines(b.status...)
		lines(statusURL)
	} else {
		lines(b.statusMissing...)
	}
	lines("")
	lines(b.rest...)
	return sb.String()
}
