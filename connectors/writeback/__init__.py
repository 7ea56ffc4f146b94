"""Write-back (回写): one writer per target system and the relay that delivers the outbox."""
