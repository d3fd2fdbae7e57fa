"""Audit recording (services.py: the one writer of audit rows). The page that reads them is
app/audit_log."""
