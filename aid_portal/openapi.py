"""The OpenAPI schema's description of the answers every operation may give besides
its success: the error answers, in the one format of aid_portal.api.exception_handler.

drf-spectacular documents only the success of an operation; a client (and the contract
test, tests/test_api_contract.py) must also know that a refusal is a 403 with a body of
a known shape, not an undocumented surprise.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR_COMPONENT = "Error"
# Every error body is an object: {"detail": "..."} for a refusal as a whole, or the
# messages under the name of each field they concern (lists of strings, nested for
# nested input), "non_field_errors" for a rule about the whole request.
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "What went wrong: `detail` for the request as a whole, otherwise the messages "
        "under the name of each field they concern (`non_field_errors` for a rule about "
        "the whole request)."
    ),
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {},
}

DESCRIPTIONS = {
    "400": (
        "The request is malformed, or a rule of the domain refuses it (a step the case's "
        "state does not allow, say); the messages are under the fields they concern."
    ),
    "401": "No credentials, or credentials that are not valid.",
    "403": "The user's roles do not allow this operation here.",
    "404": "No such object, or none the user may see.",
    "415": "The body is in a media type the operation does not take.",
    "409": "Someone else changed the object first; read it again and retry.",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers that apply to the operation."""

    def _error_codes(self) -> list[str]:
        codes = ["401", "403"]
        takes_input = (
            self.method in UNSAFE_METHODS
            or bool(self._get_filter_parameters())
            or bool(self._get_pagination_parameters())
            or bool(self.get_override_parameters())
        )
        if takes_input:
            codes.insert(0, "400")
        # Ids in the path, the query or the body of a change may name no object the user
        # may see.
        if "{" in self.path or self.method in UNSAFE_METHODS or self.get_override_parameters():
            codes.append("404")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        if self._get_request_body() is not None:
            codes.append("415")
        return codes

    def _get_filter_parameters(self):
        """The filters' parameters, with the bounds their form fields check, so that a
        number the schema allows is one the filter takes."""
        parameters = super()._get_filter_parameters()
        filterset_class = getattr(self.view, "filterset_class", None)
        if filterset_class is None:
            return parameters
        for parameter in parameters:
            if not parameter.get("required"):
                # django-filter reads an empty value as "not filtered", as a page's form
                # sends an empty field: say so, rather than have it look malformed.
                parameter["allowEmptyValue"] = True
            if parameter["schema"].get("type") == "string" and "enum" not in parameter["schema"]:
                # Django's form fields refuse a NUL character in any text.
                parameter["schema"].setdefault("pattern", "^[^\\u0000]*$")
            declared = filterset_class.base_filters.get(parameter["name"])
            if declared is None or parameter["schema"].get("type") not in ("integer", "number"):
                continue
            for validator in declared.field.validators:
                if not isinstance(validator, (MinValueValidator, MaxValueValidator)):
                    continue
                limit = validator.limit_value
                limit = limit() if callable(limit) else limit
                bound = "minimum" if isinstance(validator, MinValueValidator) else "maximum"
                parameter["schema"][bound] = limit
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        declared = [code for code, response in responses.items() if code[0] == "4"]
        for code in sorted({*self._error_codes(), *declared}):
            # A view may declare an error with only its own description (AmountView's 400).
            description = responses.get(code, {}).get("description") or DESCRIPTIONS.get(
                code, "Refused."
            )
            responses[code] = {
                "content": {"application/json": {"schema": component.ref}},
                "description": description,
            }
        return responses
