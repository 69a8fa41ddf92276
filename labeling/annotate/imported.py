"""Annotations carried by an import (a Label Studio export) become Annotation rows.

projects/ cannot import labeling/, so the import job calls this through the store registered in
projects.imports.hooks (LabelingConfig.ready). It runs inside the import batch's transaction, only
for items that batch created: a re-run or a resumed job never adds an annotation twice.
Annotators are matched by email (else created), or, when the export names only a numeric user id,
a user `labelstudio-<id>` stands in; each becomes an annotator of the project if not a member.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F

from labeling.consensus.resolve import item_resolve
from labeling.models import Annotation
from projects.imports.hooks import CarriedAnnotations
from projects.label_schema import LabelSchema, ResultError
from projects.models import Item, Membership, Project


def imported_annotator(*, annotator: dict[str, Any], cache: dict) -> Any:
    """The user an exported annotator maps to, made when missing (with no usable password)."""
    user_model = get_user_model()
    email = (annotator.get("email") or "").strip().lower()
    key = email or f"id:{annotator.get('id')}"
    if key in cache:
        return cache[key]
    if email:
        user = user_model.objects.filter(email__iexact=email).order_by("id").first()
        if user is None:
            base = email.split("@", 1)[0][:100] or "annotator"
            username, suffix = base, 1
            while user_model.objects.filter(username=username).exists():
                suffix += 1
                username = f"{base}{suffix}"
            user = user_model(username=username, email=email)
            user.set_unusable_password()
            user.save()
    else:
        user, created = user_model.objects.get_or_create(
            username=f"labelstudio-{annotator.get('id') or 'unknown'}"
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    cache[key] = user
    return user


def imported_annotations_store(
    project: Project, carried: list[CarriedAnnotations]
) -> list[tuple[int, str]]:
    """Store carried annotations; return (line, problem) for each one refused."""
    schema = LabelSchema(project.label_schema)
    users: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    new: list[Annotation] = []
    members = set(Membership.objects.filter(project=project).values_list("user_id", flat=True))
    for entry in carried:
        seen = set()
        for annotation in entry.annotations:
            try:
                result = schema.validate(
                    annotation.get("result"),
                    data=entry.data,
                    width=entry.width,
                    height=entry.height,
                )
            except ResultError as exc:
                problems.append((entry.line, f"annotation {annotation.get('source_id')}: {exc}"))
                continue
            user = imported_annotator(annotator=annotation.get("annotator") or {}, cache=users)
            if user.pk in seen:
                continue  # one annotation per annotator and item
            seen.add(user.pk)
            if user.pk not in members:
                Membership.objects.get_or_create(
                    project=project, user=user, defaults={"role": Membership.Role.ANNOTATOR}
                )
                members.add(user.pk)
            new.append(
                Annotation(
                    project=project,
                    item_id=entry.item_id,
                    annotator=user,
                    result=result,
                    lead_time=max(float(annotation.get("lead_time") or 0.0), 0.0),
                )
            )
    Annotation.objects.bulk_create(new)
    per_item = Counter(a.item_id for a in new)
    for item_id, count in per_item.items():
        Item.objects.filter(pk=item_id).update(annotation_count=F("annotation_count") + count)
    for item in Item.objects.filter(pk__in=list(per_item)).select_related("project"):
        if item.annotation_count >= project.overlap + item.extra_slots:
            item_resolve(item=item)
    return problems
