"""The framework ceiling for `make bench`: a bare Flask view returning a small JSON object.

Never part of the product. The bench overlay runs it from the web image, under
the same gunicorn.conf.py and behind the same nginx (TLS, proxy settings,
upstream keepalive) as the app, so the gap between its throughput and an
endpoint's is what Notes itself costs.
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ceiling")
def ceiling():  # type: ignore[no-untyped-def]
    return jsonify(ok=True, service="ceiling")


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # The web image's HEALTHCHECK asks this path.
    return jsonify(status="ok")
