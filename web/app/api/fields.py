"""Schema pieces every domain's API uses: strict bodies, JSON-only booleans and
integers, and text fields checked by a domain rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class JsonBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` only.

    marshmallow's Boolean also takes 1, 0, "yes", "off"...; the OpenAPI
    document promises a boolean, so a client sending ``"archived": 0`` has a
    bug it should hear about (422) rather than have guessed for it.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class JsonInteger(fields.Integer):
    """A JSON number without a fraction (30 or 30.0, as JSON Schema's integer).

    marshmallow's Integer also takes the string "30" and true; strict=True
    would refuse 30.0, which the OpenAPI document allows.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


def checked_text(
    problem: Callable[[str], str | None],
    *,
    max_length: int,
    min_length: int | None = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> fields.String:
    """A string field that ``problem`` (a domain rule: the message, or None) checks.

    The lengths are stated for the OpenAPI document only; the rule enforces
    them, so a client reads one message per problem, the same the pages show.
    """

    def validate(value: str) -> None:
        message = problem(value)
        if message:
            raise ValidationError(message)

    stated: dict[str, Any] = {"maxLength": max_length}
    if min_length is not None:
        stated["minLength"] = min_length
    return fields.String(validate=validate, metadata={**stated, **(metadata or {})}, **kwargs)
