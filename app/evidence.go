package app

import (
	"notme/inbox/mailparse"
	"notme/ui"
)

// viewMail adapts mailparse.View to the evidence viewer, which may not
// import MIME code: the same limits as the parser that took the mail in.
func viewMail(o mailparse.Options) func(raw []byte, l ui.ViewLimits) ui.MailView {
	return func(raw []byte, l ui.ViewLimits) ui.MailView {
		v := mailparse.ViewLimited(raw, o, mailparse.ViewLimits{MaxText: l.MaxText, Keep: func(n int) bool { return n == l.Keep }})
		out := ui.MailView{Headers: uiHeaders(v.Headers), Text: v.Text, HTML: v.HTML, Problems: v.Problems,
			TextClipped: v.TextClipped, HTMLClipped: v.HTMLClipped}
		for _, a := range v.Attachments {
			out.Attachments = append(out.Attachments, ui.MailAttachment{Name: a.Name, Type: a.Type, Data: a.Data, Size: a.Size, Forwarded: a.Forwarded})
		}
		if f := v.Forwarded; f != nil {
			out.Forwarded = &ui.ForwardedMail{Inline: f.Inline, Headers: uiHeaders(f.Headers), Text: f.Text, HTML: f.HTML,
				TextClipped: f.TextClipped, HTMLClipped: f.HTMLClipped}
		}
		return out
	}
}

func uiHeaders(hs []mailparse.HeaderField) []ui.MailHeader {
	out := make([]ui.MailHeader, len(hs))
	for i, h := range hs {
		out[i] = ui.MailHeader{Name: h.Name, Value: h.Value}
	}
	return out
}
