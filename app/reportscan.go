package app

import (
	"notme/cases"
	"notme/inbox/mailparse"
)

// reportScanner gives the /report form the mail parser, which ui may not
// import: an uploaded .eml can hold the original as a base64 attachment or
// in ISO-2022-JP, where a plain text scan finds nothing.
func reportScanner(o mailparse.Options) func(raw []byte) cases.Found {
	return func(raw []byte) cases.Found {
		res := mailparse.Parse(raw, o)
		return cases.Found{Tokens: res.Tokens, MessageIDs: res.MessageIDs}
	}
}
