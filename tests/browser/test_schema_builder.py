"""Issue 14 in Chromium: a lead builds a schema from a template (with the live preview), an
annotator labels with it; a Label Studio config is imported on the project form."""

import json

import pytest

from labeling.models import Annotation
from projects.models import Membership, Project
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
LS_BOXES = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="objects" toName="image">
    <Label value="car" background="#1f77b4"/>
    <Label value="person" background="#d62728"/>
  </RectangleLabels>
</View>"""


def builder_ready(page):
    page.locator("#sb-gallery .sb-template").first.wait_for()


def test_lead_builds_a_schema_from_a_template_and_an_annotator_labels_with_it(page, page_errors):
    UserFactory(username="boss", is_staff=True)
    annotator = UserFactory(username="anna")
    login(page, "boss")
    page.goto("/projects/new/")
    builder_ready(page)
    page.locator("#id_name").fill("Reviews")
    page.get_by_role("button", name="Text + sentiment + comment").click()
    cards = page.locator(".sb-control")
    assert cards.count() == 2
    # The preview is the workspace: the sentiment radios and the comment box are there.
    preview = page.locator("#sb-preview-form")
    preview.get_by_role("radio", name="positive").wait_for()
    assert preview.locator("[data-control=comment]").count() == 1

    # A fourth label with a colour and a hotkey.
    page.get_by_role("button", name="Add a label to sentiment").click()
    page.get_by_label("Label 4 of sentiment").fill("mixed")
    page.get_by_label("Hotkey of mixed").fill("m")
    page.get_by_label("Colour of mixed").fill("#ff9800")
    preview.get_by_role("radio", name="mixed").wait_for()
    # Reorder: the comment first, then back; remove and re-add nothing else.
    page.get_by_role("button", name="Move comment up").click()
    assert page.locator(".sb-control .sb-name").first.input_value() == "comment"
    page.get_by_role("button", name="Move comment down").click()
    assert page.locator(".sb-control .sb-name").first.input_value() == "sentiment"
    # A third control, added and removed again.
    page.get_by_label("New control").select_option("spans")
    page.get_by_role("button", name="Add control").click()
    assert cards.count() == 3
    page.get_by_role("button", name="Remove entities").click()
    assert cards.count() == 2
    # Trying the preview shows the result in the label contract.
    preview.get_by_role("radio", name="mixed").check()
    page.wait_for_function(
        "() => document.getElementById('sb-preview-result').textContent.includes('mixed')"
    )
    page.wait_for_function("() => document.getElementById('sb-ok').textContent.includes('valid')")
    screenshot(page, "schema-builder-template")
    # A hotkey the workspace keeps is refused with the server's message.
    page.get_by_label("Hotkey of mixed").fill("s")
    page.get_by_role("alert").filter(has_text="hotkeys kept by the workspace").wait_for()
    page.get_by_label("Hotkey of mixed").fill("m")
    page.wait_for_function("() => document.getElementById('sb-error').hidden")

    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Reviews").wait_for()
    project = Project.objects.get(name="Reviews")
    controls = project.label_schema["controls"]
    assert [c["name"] for c in controls] == ["sentiment", "comment"]
    assert controls[0]["labels"][3] == {"value": "mixed", "color": "#ff9800", "hotkey": "m"}
    assert controls[1]["required"] is False

    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    item = ItemFactory(project=project, data={"text": "Good food, slow service."})
    page.context.clear_cookies()
    login(page, "anna")
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_function("document.getElementById('workspace').dataset.ready === 'true'")
    page.keyboard.press("m")
    assert page.get_by_role("radio", name="mixed").is_checked()
    page.locator("[data-control=comment] textarea").fill("service was slow")
    screenshot(page, "schema-builder-labeling")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_function("() => !document.getElementById('ws-empty').hidden")
    assert Annotation.objects.get(item=item).result == {
        "sentiment": "mixed",
        "comment": "service was slow",
    }
    assert page_errors == []


def test_lead_imports_a_label_studio_config_on_the_project_form(page, page_errors, tmp_path):
    UserFactory(username="boss", is_staff=True)
    login(page, "boss")
    page.goto("/projects/new/")
    builder_ready(page)
    page.locator("#id_name").fill("Street objects")
    page.get_by_text("Import a Label Studio config").click()
    # A config with a tag Quorum cannot hold: each one is named.
    page.get_by_label("Label Studio config (XML)").fill(
        '<View><Audio name="clip" value="$audio"/><Image name="image" value="$image"/>'
        '<BrushLabels name="mask" toName="image"><Label value="sky"/></BrushLabels></View>'
    )
    page.get_by_role("button", name="Convert to Quorum schema").click()
    problems = page.locator("#sb-ls-problems")
    problems.get_by_text('<Audio name="clip">: Quorum has no audio data type').wait_for()
    problems.get_by_text('<BrushLabels name="mask">: Quorum has no brush (mask) control').wait_for()
    screenshot(page, "schema-builder-label-studio-refused")
    assert page.locator(".sb-control").count() == 0

    # The real config, uploaded as a file.
    config = tmp_path / "label-config.xml"
    config.write_text(LS_BOXES)
    page.get_by_label("or upload a Label Studio config file").set_input_files(str(config))
    page.get_by_role("button", name="Convert to Quorum schema").click()
    page.locator(".sb-control").first.wait_for()
    assert page.locator(".sb-control .sb-name").input_value() == "objects"
    assert page.locator(".sb-control select").first.input_value() == "boxes"
    page.locator("#sb-preview-form [data-kind=boxes]").wait_for()
    page.locator("#sb-preview-item, #sb-preview-form").locator("img").first.wait_for()
    assert problems.is_hidden()
    screenshot(page, "schema-builder-label-studio-imported")
    schema = json.loads(page.locator("[name=schema_json]").input_value())
    assert schema["controls"][0]["labels"][0] == {"value": "car", "color": "#1f77b4"}

    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Street objects").wait_for()
    controls = Project.objects.get(name="Street objects").label_schema["controls"]
    assert controls == [
        {
            "name": "objects",
            "kind": "boxes",
            "source": "image",
            "labels": [
                {"value": "car", "color": "#1f77b4", "hotkey": ""},
                {"value": "person", "color": "#d62728", "hotkey": ""},
            ],
            "required": False,
        }
    ]
    assert page_errors == []


def test_lead_edits_a_used_schema_renaming_a_label_moves_the_answers(page, page_errors):
    lead = UserFactory(username="boss")
    annotator = UserFactory(username="anna")
    project = ProjectFactory(
        name="Moods",
        label_schema={
            "controls": [
                {"name": "mood", "kind": "choice", "source": "body", "labels": ["pos", "neg"]}
            ]
        },
    )
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    items = [ItemFactory(project=project, data={"body": f"Text {n}", "lang": "en"}) for n in (1, 2)]
    for item, label in zip(items, ("pos", "neg"), strict=True):
        Annotation.objects.create(
            project=project, item=item, annotator=annotator, result={"mood": label}
        )

    login(page, "boss")
    page.goto(f"/projects/{project.pk}/settings/")
    page.locator(".sb-control").first.wait_for()
    # The source is picked from the keys of the project's items; the preview shows the first.
    picker = page.get_by_label("Pick a field for mood")
    assert picker.locator("option").all_inner_texts() == ["item field…", "body", "lang"]
    page.locator("#sb-preview-item").get_by_text("Text 1").wait_for()

    # Removing a used label: the live check says how many answers it would orphan.
    page.get_by_role("button", name="Remove label neg").click()
    page.get_by_role("alert").filter(has_text="would orphan 1 answer").wait_for()
    screenshot(page, "schema-builder-orphans")
    page.get_by_role("button", name="Add a label to mood").click()
    page.get_by_label("Label 2 of mood").fill("neg")
    page.wait_for_function("() => document.getElementById('sb-error').hidden")

    # Renaming in place is a rename: the answers move with it.
    page.get_by_label("Label 1 of mood").fill("positive")
    page.get_by_text(
        "Renamed labels (stored answers move with them): mood: pos → positive"
    ).wait_for()
    page.wait_for_function("() => document.getElementById('sb-error').hidden")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Labels renamed: moved 1 answers.").wait_for()
    assert sorted(
        Annotation.objects.filter(project=project).values_list("result__mood", flat=True)
    ) == ["neg", "positive"]
    page.goto(f"/projects/{project.pk}/settings/")
    page.get_by_role(
        "cell", name="Label schema changed; mood: pos → positive (moved 1 answers)"
    ).wait_for()
    screenshot(page, "schema-builder-history")
    assert page_errors == []


def test_every_template_renders_in_the_preview_and_is_valid(page, page_errors):
    from projects.schema_builder import schema_templates

    UserFactory(username="boss", is_staff=True)
    login(page, "boss")
    page.goto("/projects/new/")
    builder_ready(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "replace the controls?"
    for template in schema_templates():
        page.locator(f"[data-template={template['id']}]").click()
        page.wait_for_function(
            "() => document.getElementById('sb-ok').textContent.includes('valid')"
        )
        names = [c["name"] for c in template["schema"]["controls"]]
        for name in names:
            page.locator(f"#sb-preview-form [data-control={name}]").wait_for()
        assert page.locator(".sb-control").count() == len(names)
        # What a template leaves unsaid takes the kind's default: regions and text optional.
        written = json.loads(page.locator("[name=schema_json]").input_value())["controls"]
        assert [c["required"] for c in written] == [
            c.get("required", c["kind"] in ("choice", "multi", "pairwise"))
            for c in template["schema"]["controls"]
        ]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".sb-layout").screenshot(
            path=str(SCREENSHOTS / f"schema-template-{template['id']}.png")
        )
    assert page_errors == []
