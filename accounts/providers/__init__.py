"""Outside services the accounts app talks to: SMS for phone verification.

``sms`` holds the interface, shared types and errors; ``sandbox`` keeps messages in memory
for the embedded default and tests; ``zenvia`` speaks Zenvia's v2 API. The active adapter
is ``settings.PROVIDERS["accounts.sms"]``, loaded with ``core.providers.load_provider``.
"""
