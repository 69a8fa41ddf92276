"""Forms for the project pages."""

import json

from django import forms

from projects.imports.formats import FORMATS
from projects.label_schema import LabelSchema, SchemaError
from projects.models import Membership, Project

LABEL_LINES_HELP = (
    "One label per line: name, then optionally a colour and a hotkey, e.g. "
    "'positive #2e7d32 1'. Hotkeys 1-9 are given in order when none is named."
)


def labels_from_lines(text: str) -> list[dict]:
    labels = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        label = {"value": parts[0]}
        for part in parts[1:]:
            if part.startswith("#"):
                label["color"] = part
            elif len(part) == 1:
                label["hotkey"] = part
            else:
                raise forms.ValidationError(
                    f"Line {number}: '{part}' is neither #colour nor a key."
                )
        labels.append(label)
    if not labels:
        raise forms.ValidationError("Name at least one label.")
    if not any("hotkey" in lb for lb in labels):
        for index, label in enumerate(labels[:9], start=1):
            label["hotkey"] = str(index)
    return labels


class ProjectForm(forms.ModelForm):
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=LABEL_LINES_HELP,
    )
    source_field = forms.CharField(
        initial="text", help_text="The item field annotators read.", required=False
    )
    schema_json = forms.CharField(
        label="Label schema (JSON)",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Advanced: a full label schema; it replaces the labels above.",
    )

    class Meta:
        model = Project
        fields = ["name", "instructions", "overlap", "review_policy", "ordering"]

    def clean(self):
        cleaned = super().clean()
        raw_json = (cleaned.get("schema_json") or "").strip()
        try:
            if raw_json:
                schema = json.loads(raw_json)
            else:
                labels = labels_from_lines(cleaned.get("labels") or "")
                schema = {
                    "controls": [
                        {
                            "name": "label",
                            "kind": "choice",
                            "source": cleaned.get("source_field") or "text",
                            "labels": labels,
                        }
                    ]
                }
            cleaned["label_schema"] = LabelSchema(schema).as_json()
            self.instance.label_schema = cleaned["label_schema"]
        except json.JSONDecodeError as exc:
            self.add_error("schema_json", f"Not JSON: {exc}")
        except SchemaError as exc:
            self.add_error("schema_json" if raw_json else "labels", str(exc))
        return cleaned


class MemberForm(forms.Form):
    username = forms.CharField()
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)


class UploadForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(
        widget=forms.Select(attrs={"id": "upload-format"}),
        choices=[("", "Detect from the file")] + [(f.name, f.label) for f in FORMATS.values()],
        required=False,
    )


class ProjectSettingsForm(forms.ModelForm):
    """Everything a lead tunes after creation; the schema is edited as JSON."""

    schema_json = forms.CharField(
        label="Label schema (JSON)",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="The controls annotators answer (see the label contract in the API docs).",
    )

    class Meta:
        model = Project
        fields = [
            "name",
            "instructions",
            "overlap",
            "assignment_timeout",
            "ordering",
            "review_policy",
            "auto_accept_threshold",
            "aggregation",
            "gold_share",
            "prefill_predictions",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["schema_json"] = json.dumps(self.instance.label_schema, indent=2)

    def clean_auto_accept_threshold(self):
        return _share(self.cleaned_data["auto_accept_threshold"])

    def clean_gold_share(self):
        return _share(self.cleaned_data["gold_share"])

    def clean_schema_json(self):
        try:
            schema = LabelSchema(json.loads(self.cleaned_data["schema_json"])).as_json()
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc
        except SchemaError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.instance.label_schema = schema
        return schema


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise forms.ValidationError("Give a number between 0 and 1.")
    return value
