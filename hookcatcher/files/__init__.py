"""What hookcatcher reads and writes as files: sessions, fixtures, safe writes."""
