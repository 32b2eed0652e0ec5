// Package pluginapi is the SDK for writing a Vega Host listener.
//
// A listener is its own program. Its main function calls Serve with a value
// that implements Listener, and the host starts the program as a plugin
// process, one per listener block in listeners.hcl:
//
//	func main() {
//		pluginapi.Serve(&Mailer{})
//	}
//
//	func (m *Mailer) Handle(ctx context.Context, msg *pluginapi.Message) error {
//		var email Email
//		if err := msg.Decode(&email); err != nil {
//			return err
//		}
//		return m.send(ctx, email)
//	}
//
// Handle returning nil means the message was handled. An error is retried
// with backoff when the listener sets retry_on_error, unless it is wrapped
// with Permanent. After the last attempt the host calls the OnError hook and
// moves the message to the dead-letter queue with the error as the reason.
//
// Optional hooks are separate interfaces: Starter (runs once before the
// first message), Stopper (runs once at shutdown) and ErrorHandler (runs
// once for each message about to be dead-lettered).
//
// Handle may be called concurrently, up to the listener's workers setting,
// so a Listener must be safe for concurrent use.
package pluginapi
