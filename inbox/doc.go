// Package inbox is the desk's mail: the IMAP poller that reads the desk's
// mailboxes (poller.go, imapconn.go, deadline.go), the intake that fetches,
// parses, commits and moves mail in batches, its stages overlapped
// (intake.go), the lease that lets one of several desk instances poll each
// mailbox (lease.go), the Pipeline that both the poller and `notme ingest`
// file mail through (pipeline.go, parse.go). The acknowledgement mail sent
// to reporters over SMTP is inbox/acksend's.
//
// Parsing a mail is inbox/mailparse's work; inbox adapts its result to
// cases, files through cases, and knows nothing of HTTP.
package inbox
