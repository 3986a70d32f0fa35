"""The phone edge's defences: provider signatures, per-call stream tokens, log redaction."""
