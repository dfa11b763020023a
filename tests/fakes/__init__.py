"""Real peers on loopback for tests and benchmarks: an SMTP server and a Telegram Bot API."""
