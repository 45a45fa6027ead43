package app

import (
	"notme/inbox/mailparse"
	"notme/ui"
)

// viewMail adapts mailparse.View to the evidence viewer, which may not
// import MIME code: the same limits as the parser that took the mail in.
func viewMail(o mailparse.Options) func(raw []byte) ui.MailView {
	return func(raw []byte) ui.MailView {
		v := mailparse.View(raw, o)
		out := ui.MailView{Headers: uiHeaders(v.Headers), Text: v.Text, HTML: v.HTML, Problems: v.Problems}
		for _, a := range v.Attachments {
			out.Attachments = append(out.Attachments, ui.MailAttachment{Name: a.Name, Type: a.Type, Data: a.Data, Forwarded: a.Forwarded})
		}
		if f := v.Forwarded; f != nil {
			out.Forwarded = &ui.ForwardedMail{Inline: f.Inline, Headers: uiHeaders(f.Headers), Text: f.Text, HTML: f.HTML}
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
