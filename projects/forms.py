"""Forms for the project pages and the API tokens page."""

import json
import secrets

from django import forms

from projects.api_tokens import NAME_MAX, api_token_default_days
from projects.imports.formats import FORMATS
from projects.label_schema import LabelSchema, SchemaError
from projects.label_studio_config import LabelStudioConfigError, label_studio_config_to_schema
from projects.members import USERNAME_MAX
from projects.models import Membership, Project
from projects.schema_change import SchemaChangeRefused, schema_change_check
from projects.unstorable import NUL_REFUSE, NUL_STRIP

LABEL_STUDIO_CONFIG_MAX_BYTES = 1024 * 1024

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


class LabelStudioConfigFields(forms.Form):
    """A Label Studio <View> config, pasted or uploaded, read into a Quorum schema."""

    label_studio_config = forms.CharField(
        label="Label Studio config (XML)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        required=False,
        strip=False,
        help_text="Paste a Label Studio <View> label config; it replaces the schema.",
    )
    label_studio_file = forms.FileField(
        label="or upload a Label Studio config file", required=False
    )

    def label_studio_schema(self) -> dict | None:
        """The schema from the pasted or uploaded config, None when neither was given; adds
        the form error naming each tag Quorum cannot hold."""
        upload = self.cleaned_data.get("label_studio_file")
        text = self.cleaned_data.get("label_studio_config") or ""
        field = "label_studio_config"
        if upload is not None:
            field = "label_studio_file"
            if upload.size > LABEL_STUDIO_CONFIG_MAX_BYTES:
                self.add_error(field, "A label config is at most 1 MB.")
                return None
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error(field, "The file is not UTF-8 text.")
                return None
        if not text.strip():
            return None
        try:
            return label_studio_config_to_schema(text)
        except LabelStudioConfigError as exc:
            self.add_error(field, [f"Label Studio config: {p}" for p in exc.problems])
            return None


class ProjectForm(LabelStudioConfigFields, forms.ModelForm):
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
            if (from_label_studio := self.label_studio_schema()) is not None:
                schema = from_label_studio
            elif self.has_error("label_studio_config") or self.has_error("label_studio_file"):
                return cleaned
            elif raw_json:
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


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class AccountForm(forms.Form):
    username = forms.CharField(max_length=USERNAME_MAX, label="New username")
    email = forms.EmailField(required=False, help_text="Optional: the link is emailed too.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)


NEVER = "never"
TOKEN_LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class ApiTokenForm(forms.Form):
    """A new API token: its name and lifetime (the site's default lifetime preselected)."""

    name = forms.CharField(
        max_length=NAME_MAX, help_text="What it is for, e.g. the nightly export."
    )
    lifetime = forms.ChoiceField(label="Expires after")
    # Tells a form sent twice (a reload of the answer) from a new one: see the tokens page.
    once = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["once"].initial = secrets.token_urlsafe(16)
        default = api_token_default_days()
        lifetimes = dict(TOKEN_LIFETIMES)
        if default is not None:
            lifetimes.setdefault(default, f"{default} days")
        choices = [(str(days), label) for days, label in sorted(lifetimes.items())]
        self.fields["lifetime"].choices = [*choices, (NEVER, "Never")]
        self.fields["lifetime"].initial = NEVER if default is None else str(default)

    def expires_in_days(self) -> int | None:
        lifetime = self.cleaned_data["lifetime"]
        return None if lifetime == NEVER else int(lifetime)


class UploadForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(
        widget=forms.Select(attrs={"id": "upload-format"}),
        choices=[("", "Detect from the file")] + [(f.name, f.label) for f in FORMATS.values()],
        required=False,
    )
    nul = forms.ChoiceField(
        label="Rows with a NUL character",
        widget=forms.Select(attrs={"id": "upload-nul"}),
        choices=[(NUL_REFUSE, "Report as errors"), (NUL_STRIP, "Strip the NULs, import the row")],
        initial=NUL_REFUSE,
        required=False,
    )


class ProjectSettingsForm(LabelStudioConfigFields, forms.ModelForm):
    """Everything a lead tunes after creation; the schema is built on the page or given as
    JSON or a Label Studio config. The form checks the schema change; the view applies it with
    projects.schema_change.project_schema_change (`schema_change` in cleaned_data)."""

    schema_json = forms.CharField(
        label="Label schema (JSON)",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="The controls annotators answer (see the label contract in the API docs).",
        required=False,
    )
    label_renames = forms.CharField(
        label="Label renames (JSON)",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        required=False,
        help_text='Moves stored answers to renamed labels: {"control": {"old": "new"}}.',
    )

    class Meta:
        model = Project
        fields = [
            "name",
            "instructions",
            "overlap",
            "max_overlap",
            "assignment_timeout",
            "ordering",
            "review_policy",
            "auto_accept_threshold",
            "aggregation",
            "gold_share",
            "prefill_predictions",
        ]

    skip_reasons_text = forms.CharField(
        label="Skip reasons",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: the reasons an annotator can pick when skipping an item "
        "(they can always type their own).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["schema_json"] = json.dumps(self.instance.label_schema, indent=2)
            self.initial["skip_reasons_text"] = "\n".join(self.instance.skip_reasons or [])

    def clean_skip_reasons_text(self):
        lines = (line.strip() for line in self.cleaned_data["skip_reasons_text"].splitlines())
        reasons = list(dict.fromkeys(line for line in lines if line))
        self.instance.skip_reasons = reasons
        return reasons

    def clean_auto_accept_threshold(self):
        return _share(self.cleaned_data["auto_accept_threshold"])

    def clean_gold_share(self):
        return _share(self.cleaned_data["gold_share"])

    def clean_schema_json(self):
        raw = (self.cleaned_data.get("schema_json") or "").strip()
        if not raw:
            return None
        try:
            return LabelSchema(json.loads(raw)).as_json()
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc
        except SchemaError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_label_renames(self):
        raw = (self.cleaned_data.get("label_renames") or "").strip()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc

    def clean(self):
        # The instance is the project as stored: the form must not write the schema into it,
        # schema_change_check compares with what is stored.
        cleaned = super().clean()
        overlap, max_overlap = cleaned.get("overlap"), cleaned.get("max_overlap")
        if overlap and max_overlap is not None and max_overlap < overlap:
            self.add_error("max_overlap", f"Give at least the overlap ({overlap}).")
        if self.has_error("schema_json") or self.has_error("label_renames"):
            return cleaned
        schema = self.label_studio_schema() or cleaned.get("schema_json")
        if self.has_error("label_studio_config") or self.has_error("label_studio_file"):
            return cleaned
        if schema is None:
            self.add_error("schema_json", "Give the label schema.")
            return cleaned
        field = "schema_json"
        try:
            stored = Project.objects.only("label_schema").get(pk=self.instance.pk)
            schema_change_check(
                project=stored, label_schema=schema, renames=cleaned.get("label_renames")
            )
        except SchemaError as exc:
            self.add_error(field, str(exc))
        except SchemaChangeRefused as exc:
            for name, message in exc.errors.items():
                self.add_error("label_renames" if name == "label_renames" else field, message)
        else:
            cleaned["schema_change"] = {
                "label_schema": schema,
                "renames": cleaned.get("label_renames") or {},
            }
        return cleaned


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise forms.ValidationError("Give a number between 0 and 1.")
    return value
