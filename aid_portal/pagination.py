"""The API's pagination: limit and offset, refused when malformed, and described in
the OpenAPI schema exactly as they are read and answered.

DRF's LimitOffsetPagination quietly reads a malformed or negative ``limit`` as "the
default" and any bad ``offset`` as 0, so a client's mistake went unnoticed and the
schema promised integers it did not check; its answer's ``next`` and ``previous`` are
always there (null at the ends) though its schema left them out of ``required``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_LIMIT = 500


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = MAX_LIMIT

    def _integer(self, request, name: str, minimum: int, maximum: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: [_("A whole number is required.")]}) from None
        if value < minimum or (maximum is not None and value > maximum):
            message = (
                _("Must be between %(low)d and %(high)d.") % {"low": minimum, "high": maximum}
                if maximum is not None
                else _("Must be at least %(low)d.") % {"low": minimum}
            )
            raise ValidationError({name: [message]})
        return value

    def get_limit(self, request):
        limit = self._integer(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        offset = self._integer(request, self.offset_query_param, 0, None)
        return offset or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "next", "previous", "results"]
        response["properties"]["count"]["minimum"] = 0
        return response
