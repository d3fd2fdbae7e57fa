"""The API's documentation, public: /api/v1/openapi.json (built by flask-smorest from the views)
and /api/v1/docs, Swagger UI served from the swagger-ui-bundle package's files (no CDN; its
start-up code is app/static/api-docs.js, as the CSP allows no inline script)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png",
          "favicon-16x16.png"}


@bp.route("/openapi.json")
def openapi_json():
    return jsonify(current_app.extensions["api_spec"].spec.to_dict())


@bp.route("/docs")
def docs():
    return render_template("api/docs.html")


@bp.route("/docs/assets/<name>")
def asset(name: str):
    if name not in ASSETS:
        return current_app.response_class("Not Found", status=404, mimetype="text/plain")
    return send_from_directory(swagger_ui_path, name, max_age=86400)
