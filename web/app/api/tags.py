"""/api/v1/tags: your tags with counts; rename or merge."""

from __future__ import annotations

from typing import Any

from flask import abort

from ..notes.tags import TagError, rename_tag, tag_counts
from . import bp
from .auth import api_owner
from .docs import problem_response
from .schemas import TagCountSchema, TagListSchema, TagRenameSchema


@bp.route("/tags", methods=["GET"])
@bp.response(200, TagListSchema)
def list_tags() -> Any:
    """Your tags, by name, with how many notes outside the trash have each."""
    return {"items": [{"name": c.tag.name, "count": c.count} for c in tag_counts(api_owner())]}


@bp.route("/tags/rename", methods=["POST"])
@bp.arguments(TagRenameSchema)
@bp.response(200, TagCountSchema)
@problem_response(404, "You have no tag of that name")
def rename(data: dict[str, Any]) -> Any:
    """Rename a tag. Renaming to a tag you already have merges the two."""
    user = api_owner()
    try:
        tag = rename_tag(user, data["name"], data["new_name"])
    except TagError as exc:
        abort(404, str(exc))
    count = next((c.count for c in tag_counts(user) if c.tag.id == tag.id), 0)
    return {"name": tag.name, "count": count}
