"""Usage limits, counted in the database so every gunicorn worker and every web replica agrees.

- ``service``: how often one user may do a heavy thing (an import, an
  export) in a sliding window. ``spend`` counts one use or raises
  ``RateLimited``, which app/http/errors.py answers with 429 and Retry-After.
- ``windows``: how many API calls a token and a user may make per fixed
  window, one row per key (app/api/ratelimit.py counts every API call).
"""
