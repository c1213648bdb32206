"""Several relations of one object read in the object's own query.

``prefetch_related`` costs a query per relation: the case page read its application
and then 16 relations one by one. A page that shows one object with many small lists
pays a round trip and a plan for each. :func:`with_rows` instead adds each relation to
the object's query as a correlated subquery that returns its rows as one JSON array
(``json_agg`` of the rows, in the relation's order), and :func:`rows_place` turns the
arrays back into model instances and puts them where ``prefetch_related`` would have:
``app.events.all()``, ``app.household.members.all()``, ``member.incomes.all()`` read
them without a query, and the related objects named in ``related`` (``event.actor``)
are there too.

Meant for one object (a detail page), not for lists: each subquery runs per row.
"""

from __future__ import annotations

import decimal
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.dateparse import parse_date, parse_datetime, parse_duration, parse_time

PREFIX = "_rows_"


@dataclass(frozen=True)
class Rows:
    """One relation's rows, read inside the root object's query.

    ``path``: where the rows go, from the root, as for ``prefetch_related``
    ("events", "household__members", "household__members__incomes"); a relation below
    another needs that other listed before it. ``queryset``: the rows, with their order.
    ``link``: the lookup from a row to the root's ``root_field`` ("application" and "pk";
    "member__household" and "household_id"). ``related``: the objects read with each row,
    as ``select_related`` paths ("actor", "member__person"). ``holder``: the row's column
    that names the object it belongs to, when not the relation's own foreign key; and
    ``pick``: the related object that is the relation's item (a many-to-many relation is
    read from its through model: ``pick="user"``).
    """

    path: str
    queryset: QuerySet
    link: str
    root_field: str = "pk"
    related: tuple[str, ...] = ()
    holder: str | None = None
    pick: str | None = None


class JsonRows(Subquery):
    """The subquery's rows as one JSON array, as text (parsed with exact decimals)."""

    template = "(SELECT coalesce(json_agg(_r), '[]')::text FROM (%(subquery)s) _r)"
    output_field = models.TextField()


def _columns(model: type[models.Model], prefix: str) -> list[tuple[str, models.Field]]:
    return [
        (f"{prefix}__{field.attname}" if prefix else field.attname, field)
        for field in model._meta.concrete_fields
    ]


def _model_at(model: type[models.Model], path: str) -> type[models.Model]:
    for part in filter(None, path.split("__")):
        model = model._meta.get_field(part).related_model
    return model


def _layout(spec: Rows) -> dict[str, list[tuple[str, models.Field]]]:
    """Each model read with a row (the row's own at ""), with its columns' lookups."""
    model = spec.queryset.model
    paths = [""]
    for path in spec.related:
        parts = path.split("__")
        paths += ["__".join(parts[: n + 1]) for n in range(len(parts))]
    return {path: _columns(_model_at(model, path), path) for path in dict.fromkeys(paths)}


def with_rows(queryset: QuerySet, *specs: Rows) -> QuerySet:
    """``queryset`` with each relation's rows as a JSON column (read by rows_place)."""
    annotations = {}
    for n, spec in enumerate(specs):
        lookups = [lookup for columns in _layout(spec).values() for lookup, _field in columns]
        values = {f"c{i}": F(lookup) for i, lookup in enumerate(lookups)}
        if spec.holder:
            values["holder"] = F(spec.holder)
        rows = spec.queryset.filter(**{spec.link: OuterRef(spec.root_field)}).values(**values)
        annotations[f"{PREFIX}{n}"] = JsonRows(rows)
    return queryset.annotate(**annotations)


def _value(field: models.Field, value: Any) -> Any:
    """A JSON value as the database adapter would have given it for ``field``."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.BinaryField):
        return bytes.fromhex(value[2:])  # bytea reads "\x…" in JSON
    if isinstance(field, models.DateTimeField):
        return parse_datetime(value)
    if isinstance(field, models.DateField):
        return parse_date(value)
    if isinstance(field, models.TimeField):
        return parse_time(value)
    if isinstance(field, models.DurationField):
        return parse_duration(value)
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(value)
    if isinstance(field, models.UUIDField):
        return uuid.UUID(value)
    if getattr(type(field), "from_db_value", None) is not None:
        return field.from_db_value(value, None, connection)  # e.g. an encrypted column
    return value


def _instances(spec: Rows, raw: list[dict]) -> list[tuple[Any, models.Model, models.Model]]:
    """(holder id, the row's own object, the item) for each JSON row, with its related
    objects cached on it."""
    layout = _layout(spec)
    result = []
    for item in raw:
        position = 0
        objects: dict[str, models.Model | None] = {}
        for path, columns in layout.items():
            values = [
                _value(field, item[f"c{position + i}"]) for i, (_l, field) in enumerate(columns)
            ]
            position += len(columns)
            model = _model_at(spec.queryset.model, path)
            pk_index = next(i for i, (_l, f) in enumerate(columns) if f.primary_key)
            objects[path] = (
                None
                if values[pk_index] is None
                else model.from_db(connection.alias, [f.attname for _l, f in columns], values)
            )
        for path in layout:
            if not path:
                continue
            parent_path, _sep, name = path.rpartition("__")
            parent = objects[parent_path]
            if parent is not None:
                parent._meta.get_field(name).set_cached_value(parent, objects[path])
        row = objects[""]
        if spec.pick:
            row = objects[spec.pick]
        result.append((item.get("holder"), objects[""], row))
    return result


def _holders(root: models.Model, path: list[str]) -> list[models.Model]:
    """The objects reached from ``root`` along ``path`` (already read or placed)."""
    objects = [root]
    for part in path:
        reached = []
        for obj in objects:
            value = getattr(obj, part)
            if isinstance(value, models.Manager):
                reached.extend(value.all())
            elif value is not None:
                reached.append(value)
        objects = reached
    return objects


def _place(holder: models.Model, accessor: str, rows: list[models.Model]) -> None:
    manager = getattr(holder, accessor)
    queryset = manager.all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache_name = getattr(manager, "prefetch_cache_name", None)
    if cache_name is None:  # a reverse foreign key: each row points back at its holder
        field = manager.field
        cache_name = field.remote_field.cache_name
        for row in rows:
            field.set_cached_value(row, holder)
    holder.__dict__.setdefault("_prefetched_objects_cache", {})[cache_name] = queryset


def rows_place(obj: models.Model, *specs: Rows) -> models.Model:
    """Put the rows read by with_rows where ``prefetch_related`` would have."""
    for n, spec in enumerate(specs):
        raw = json.loads(obj.__dict__.pop(f"{PREFIX}{n}"), parse_float=decimal.Decimal)
        *path, accessor = spec.path.split("__")
        rows = _instances(spec, raw)
        holders = _holders(obj, path)
        if not holders:
            continue
        if not path:
            _place(obj, accessor, [row for _h, _own, row in rows])
            continue
        by_holder: dict[Any, list[models.Model]] = defaultdict(list)
        for holder_id, own, row in rows:
            key = holder_id
            if key is None:
                key = getattr(own, getattr(holders[0], accessor).field.attname)
            by_holder[key].append(row)
        for holder in holders:
            _place(holder, accessor, by_holder.get(holder.pk, []))
    return obj
