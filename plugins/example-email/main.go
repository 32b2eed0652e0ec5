// Command example-email is a Vega Host listener that sends each message as
// an email through an SMTP server.
//
// A message body is a JSON object:
//
//	{"to": ["a@example.com", "Bo <b@example.com>"], "subject": "Hello", "text": "Hi", "html": "<p>Hi</p>"}
//
// "to" (one address or an array of at most 100) and "subject" are
// required, and so is at least one of "text" and "html". With both, the
// mail is multipart/alternative. Unknown fields are rejected.
//
// The listener block's config sets the server and the sender:
//
//	config = {
//	  smtp_addr = "127.0.0.1:1025"       # required, host:port
//	  from      = "noreply@example.com"  # required
//	  username  = "mailer"               # optional, with password: AUTH PLAIN
//	  password  = env("SMTP_PASSWORD")
//	  timeout   = 30                     # optional, seconds per send
//	}
//
// An invalid body, an invalid address and a 5xx reply from the server are
// permanent errors, so the host dead-letters the message at once. A refused
// connection, a timeout and a 4xx reply are temporary, so the host retries
// the message when the listener sets retry_on_error.
package main

import "github.com/vega-host/vega-host/pluginapi"

func main() {
	pluginapi.Serve(&Mailer{})
}
