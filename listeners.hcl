# Vega Host configuration: the example email listener on the embedded
# SQLite queue, sending to the local SMTP sink that scripts/start.sh runs.
#
#   bin/vega-host validate -config listeners.hcl
#   bin/vega-host run -config listeners.hcl

host {
  log_level        = "info"
  shutdown_timeout = 30 # seconds running handlers get after SIGTERM
}

# The embedded queue: one SQLite file, created on first use. With no
# driver block at all, this is also the default.
driver "sqlite" {
  path = "vega.db"
}

listener "send-email" {
  plugin = "bin/example-email"
  queue  = "emails"

  workers            = 4
  visibility_timeout = 30
  retry_on_error     = true # retry refused connections and 4xx replies
  max_retries        = 3

  # Failed messages move here with the reason; an invalid address goes
  # here at once, without retries.
  dead_letter_queue = "emails-dlq"

  config = {
    smtp_addr = "127.0.0.1:1025"
    from      = "Vega Host <noreply@example.com>"
  }
}
