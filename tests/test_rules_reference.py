"""The README's reference for admins is generated from the code and kept in step with it: the names
a condition can read, what `calendar`, the time filters and latches offer, and the `[contacts]` of
pack.toml."""

from __future__ import annotations

import re
import tomllib

import playbook_helpers as h
from etiu_worker.playbook.evaluate import evaluate_conditions
from etiu_worker.playbook.context_reference import context_reference
from etiu_worker.playbook.latches import latch_reference
from etiu_worker.playbook.names import calendar_reference, names_of
from etiu_worker.playbook.timefilters import time_reference
from etiu_worker.playbook.rules import Condition
from etiu_worker.playbook.step_reference import step_reference
from etiu_worker.actions.sample import sample_context

README = (h.ROOT / "README.md").read_text(encoding="utf-8")
ADMIN_SECTION = README.split("## For admins", 1)[1].split("\n## ", 1)[0]


def test_the_readme_lists_every_calendar_name_with_its_meaning_as_the_code_generates_it():
    listed = [line for line in ADMIN_SECTION.splitlines() if line.startswith("- `calendar.")]

    assert listed == calendar_reference(), "paste etiu_worker.playbook.names.calendar_reference() into the README"
    names = [re.match(r"- `calendar\.(\w+)", line).group(1) for line in listed]
    assert names == names_of(h.playbook().calendar)
    assert "elapsed_business_days" in names and "holidays" in names


def test_the_readme_names_every_name_a_condition_can_read():
    _, context = sample_context(h.playbook())

    missing = [name for name in context if f"`{name}`" not in ADMIN_SECTION and f"`{name}." not in ADMIN_SECTION]

    assert missing == [], f"the README's admin section does not say what {missing} are"


def test_the_readme_examples_of_calendar_hold_on_the_sample_engagement():
    playbook = h.playbook()
    _, context = sample_context(playbook)
    examples = re.findall(r"`(calendar\.[^`]+)`", ADMIN_SECTION.split("For example", 1)[1].split("\n\n")[0])
    assert len(examples) == 2

    for example in examples:
        condition = Condition(example, "README", playbook.env.compile_expression(example, undefined_to_none=False))
        [result] = evaluate_conditions(playbook, (condition,), {**context, "params": {}})
        assert result.error == "", f"{example}: {result.error}"


def test_the_readme_playbook_example_has_the_contacts_the_templates_read():
    block = re.search(r"`pack.toml`:\n\n```toml\n(.*?)```", ADMIN_SECTION, flags=re.S).group(1)
    documented = tomllib.loads(block)["contacts"]
    templates = "".join(path.read_text(encoding="utf-8") for path in h.settings().templates.path.glob("*.j2"))

    assert set(documented) == set(h.playbook().contacts)
    assert set(re.findall(r"contacts\.(\w+)", templates)) == set(documented)


def test_the_readme_lists_every_time_filter_and_latch_name_as_the_code_generates_them():
    lines = ADMIN_SECTION.splitlines()

    assert [line for line in lines if line in time_reference()] == time_reference(), \
        "paste etiu_worker.playbook.timefilters.time_reference() into the README"
    assert [line for line in lines if line.startswith("- `latches.")] == latch_reference(), \
        "paste etiu_worker.playbook.latches.latch_reference() into the README"


def test_the_readme_lists_every_name_a_condition_reads_of_steps_as_the_code_generates_them():
    listed = [line for line in ADMIN_SECTION.splitlines() if line.startswith("- `steps")]

    assert listed == step_reference(), "paste etiu_worker.playbook.step_reference.step_reference() into the README"


def test_the_readme_lists_every_name_a_condition_reads_as_the_code_generates_them():
    reference = context_reference()

    assert [line for line in ADMIN_SECTION.splitlines() if line in reference] == reference, \
        "paste etiu_worker.playbook.context_reference.context_reference() into the README"
