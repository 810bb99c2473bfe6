"""The shape of every API error (RFC 9457 problem details), for the OpenAPI document."""

from marshmallow import Schema, fields

PROBLEM_JSON = "application/problem+json"


class ProblemSchema(Schema):
    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Not Found"})
    status = fields.Integer(metadata={"example": 404})
    detail = fields.String(metadata={"description": "What went wrong and how to fix it"})
    errors = fields.Dict(metadata={"description": "Field name to messages, on a 422"})
