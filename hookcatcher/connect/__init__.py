"""Real gateways: their configuration APIs, attach and doctor."""
