// Package inbox is the desk's mail: the report parser, the IMAP poller that
// reads the desk's mailbox, and acknowledgement mail over SMTP. It files
// reports through cases and knows nothing of HTTP.
package inbox
