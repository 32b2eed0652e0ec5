listener "send-email" {
  plugin = "bin/example-email"
  queue  = "emails"
}
