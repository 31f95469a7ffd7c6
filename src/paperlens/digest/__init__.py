"""Email digests: subscribe and confirm, compose, queue in the outbox, send over SMTP.

``optin`` (double opt-in, signed links) → ``compose`` (what a subscriber gets,
with reasons; pure over ``rank/``) → ``render`` (templates → ``EmailMessage``)
→ ``outbox`` (exactly-once state machine) → ``send`` (SMTP). ``jobs`` hands the
worker its periodic job. See docs/digest.md.
"""
