# Every setting with a value other than its default.
host {
  log_level        = "debug"
  log_format       = "json"
  shutdown_timeout = "45s"
  metrics_addr     = "127.0.0.1:9464"
}

driver "sqlite" {
  path = "data/queue.db"
}

listener "send-email" {
  plugin             = "bin/example-email"
  queue              = "emails"
  workers            = 4
  auto_ack           = false
  visibility_timeout = "2m"
  max_messages       = 10
  retry_on_error     = true
  max_retries        = 7
  retry_delay        = 2
  max_retry_delay    = "10m"
  dead_letter_queue  = "emails-dlq"
  handler_timeout    = 15
  driver             = "sqlite"
  sha256             = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
  env                = ["VEGA_TEST_SMTP_USER"]

  config = {
    smtp_addr = "127.0.0.1:1025"
    password  = env("VEGA_TEST_SMTP_PASSWORD")
    from      = env("VEGA_TEST_UNSET_FROM", "noreply@example.com")
    tls = {
      enabled = true
      ports   = [465, 587]
    }
  }
}

listener "resize-image" {
  plugin = "bin/example-email"
  queue  = "images"
}
