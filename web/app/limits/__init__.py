"""Usage limits: how often one user may do a heavy thing (an import, an export) in a window.

Counted in the database, so every gunicorn worker and every web replica sees
the same uses. ``service.spend`` counts one use or raises ``RateLimited``,
which app/http/errors.py answers with 429 and Retry-After.
"""
