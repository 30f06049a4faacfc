"""Load and check a pack's playbook: its rules files (TOML) and the templates they name.

Everything a file alone can show is checked here: TOML syntax, unknown keys, unknown actions,
conditions that do not compile, states compared with names the target's role does not declare, templates
that do not compile or do not exist. Rendering every condition and template against a sample
engagement needs the actions, so it happens one layer up (etiu_worker/actions/loading.py, which
every caller uses). An error names the file, the line where it can be found, the rule and what to
fix. Parsed rules are frozen.

A pack folder holds ``pack.toml`` (what the pack is, calendar, contacts, shared numbers, its
records, dates and latches; required), ``rules/`` with one file per rule and ``templates/``
(etiu_worker/playbook/pack_folders.py finds them; a folder in the old layout has ``playbook.toml``
beside the rules files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .action_kinds import ActionFields, ActionKind, Kinds, PackRecords
from .action_targets import check_each_targets, each_role
from .condition_check import check_state_names, parse_expression
from .context_names import ContextNames, check_declared, codes_of, load_context, state_names, targets_of
from ..config import SchemaSettings
from ..errors import RulesError
from .names import closest, did_you_mean
from .file_messages import action_line as _action_line
from .file_messages import describe as _describe
from .file_messages import unknown_kind as _unknown_kind
from .file_messages import line_of as _line_of
from .pack_file import LEGACY_PLAYBOOK_FILE, ChecksTable, NoteMarks, PackFile, PackTable, read_pack_file, read_toml
from .pack_checks import checks_of
from .pack_folders import DEFAULT_PACK, PackFolder, shipped_pack
from .moments import Moments, compile_moments
from .step_context import check_step_records
from .step_model import StepPlan
from .steps import load_steps
from .pack_schema import effective_records
from ..engagement.roles import Declarations
from .code_cache import CodeCache
from .templates import compiled_expression, make_environment, parsed_template, templates_folder, use_labels
from .timechecks import check_time_literals
from ..engagement.workdays import BusinessCalendar

PLAYBOOK_FILE = LEGACY_PLAYBOOK_FILE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleBody(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    order: int = 100
    on_broken_engagement: bool = False
    when: list[str] = Field(default_factory=list)
    params: dict[str, int | float | str | bool] = Field(default_factory=dict)
    actions: list[dict[str, Any]] = Field(min_length=1)  # each read by its kind's model


class RuleFile(_Strict):
    rule: RuleBody


@dataclass(frozen=True)
class Condition:
    text: str
    where: str  # file:line and rule, for messages
    compiled: Any = field(repr=False, compare=False, default=None)  # compiled once, at load
    tree: Any = field(repr=False, compare=False, default=None)  # its syntax tree, for messages

    def evaluate(self, env: ImmutableSandboxedEnvironment, context: Mapping[str, Any]) -> Any:
        return self.compiled(**context)


@dataclass(frozen=True)
class Action:
    """One action of a rule: its kind, the roles it targets and the kind's keys (``options``)."""

    kind: str
    targets: tuple[str, ...]
    options: ActionFields
    when: tuple[Condition, ...]
    where: str
    record_filter: Condition | None = None  # ``where``: which records of an ``each:`` target it acts on

    @property
    def template(self) -> str:
        return self.options.template

    @property
    def key(self) -> str:
        return self.options.key


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    order: int
    on_broken_engagement: bool
    when: tuple[Condition, ...]
    params: Mapping[str, Any]
    actions: tuple[Action, ...]
    file: Path

    @property
    def summary(self) -> str:
        return self.description.strip().splitlines()[0]


@dataclass(frozen=True)
class Playbook:
    """One loaded and checked pack: its rules, calendar, numbers, contacts, templates and records."""

    rules: tuple[Rule, ...]
    calendar: BusinessCalendar
    planned_window_hours: float
    numbers: Mapping[str, float]  # [playbook], read as numbers.NAME
    contacts: Mapping[str, str]
    env: ImmutableSandboxedEnvironment
    declarations: Declarations  # the records: [engagement] and [records.*]
    checks: ChecksTable  # the built-in checks declared: [checks.*]
    context_names: ContextNames  # [context]: groups and other names of roles
    moments: Moments  # [dates] and [latches.*]
    steps: StepPlan  # [steps.*]
    marks: NoteMarks  # the flag markers and the note footer of [pack]
    name: str = DEFAULT_PACK  # the pack's [pack] name
    files: PackFolder | None = field(default=None, compare=False)  # where it was loaded from
    report: Any = field(default=None, compare=False)  # its report data (playbook/report_pack.ReportPack)
    pack: Any = field(default=None, compare=False, repr=False)  # pack.toml as read (pack_file.PackFile)
    match: tuple[Condition, ...] = field(default=(), compare=False)  # [pack] match, compiled (playbook/pack_match.py)

    @property
    def codes(self) -> Mapping[str, str]:
        """Each code-identified role's code, as templates read ``codes.<role>``."""
        return codes_of(self.declarations)

    @property
    def states(self) -> Any:
        """The states each name of a role can hold (``condition_check.StateNames``)."""
        return state_names(self.declarations, self.context_names)


def parse_pack(folder: PackFolder, kinds: Kinds, overrides: SchemaSettings | None = None,
               code_cache: CodeCache | None = None) -> Playbook:
    """Parse the pack in ``folder`` (not yet tried on the sample), its actions read as ``kinds``;
    ``overrides`` are the settings' deprecated [schema] keys; ``code_cache`` keeps what it compiles."""
    pack = _read_pack_file(folder)
    return _load(folder, pack, overrides or SchemaSettings(), kinds, code_cache)


def parse_playbook(rules_dir: Path, templates_dir: Path, schema: SchemaSettings, kinds: Kinds) -> Playbook:
    """Parse a rules folder in the old layout (``playbook.toml`` beside the rules), with the
    ``[schema]`` keys set in ``schema`` over its records."""
    if not rules_dir.is_dir():
        raise RulesError(f"rules folder {rules_dir} does not exist: set rules.path (ETIU_RULES__PATH)")
    shipped = shipped_pack(DEFAULT_PACK)
    folder = PackFolder(rules_dir, rules_dir / PLAYBOOK_FILE, rules_dir, templates_dir, shipped / "fixtures", legacy=True)
    return _load(folder, _read_pack_file(folder), schema, kinds, None)


def _load(folder: PackFolder, pack: PackFile, overrides: SchemaSettings, kinds: Kinds, code_cache: CodeCache | None) -> Playbook:
    pack, where = _with_shipped_moments(folder, _with_shipped_checks(pack))
    declarations, fit = effective_records(pack, overrides, folder.pack_file)
    if not folder.templates_dir.is_dir():
        raise RulesError(f"templates folder {folder.templates_dir} does not exist: "
                         + ("set templates.path (ETIU_TEMPLATES__PATH)" if folder.legacy
                            else f"the pack {folder.root} needs its templates/ folder"))
    if not folder.rules_dir.is_dir():
        raise RulesError(f"rules folder {folder.rules_dir} does not exist: the pack {folder.root} needs its "
                         f"rules/ folder, one file per rule (NN_name.toml)")
    env = make_environment(folder.templates_dir, code_cache)
    names = load_context(pack.context, declarations, str(folder.pack_file))
    checks = checks_of(pack, declarations, env, fit, str(folder.pack_file))
    if checks.roadmap_sync is not None:
        use_labels(env, checks.roadmap_sync.roadmap_labels.titles)
    steps = _steps(pack, declarations, where)
    records = PackRecords(declarations, state_names(declarations, names), targets_of(declarations, names),
                          frozenset(checks.declared), names.aliases, steps)
    moments = _moments(pack, env, where, checks)  # pack.toml's own mistakes before the rules'
    rules = tuple(sorted((_load_rule(path, env, records, kinds) for path in folder.rule_files()),
                         key=lambda rule: (rule.order, rule.name)))
    if not rules:
        besides = f" besides {PLAYBOOK_FILE}" if folder.legacy else ""
        raise RulesError(f"rules folder {folder.rules_dir} holds no rules (*.toml{besides})")
    _refuse_duplicate_names(rules)
    return Playbook(
        rules=rules,
        calendar=BusinessCalendar(holidays=frozenset(pack.calendar.holidays), weekend=pack.weekend_days),
        planned_window_hours=checks.planned_window.hours if checks.planned_window else pack.playbook.planned_window_hours,
        numbers=MappingProxyType(pack.playbook.numbers),
        contacts=MappingProxyType(dict(pack.contacts)),
        env=env,
        declarations=declarations,
        checks=checks,
        context_names=names,
        moments=moments,
        steps=steps,
        marks=(pack.pack or _shipped_pack_table()).marks,
        name=pack.pack.name if pack.pack else DEFAULT_PACK,
        files=folder,
        pack=pack,
    )


def _with_shipped_checks(pack: PackFile) -> PackFile:
    """A pack that declares no records runs the shipped pack's, and so its checks and
    ``[context]`` (which name those records) when it declares none."""
    if pack.records or pack.checks.declared or pack.context:
        return pack
    shipped = read_pack_file(shipped_pack(DEFAULT_PACK) / "pack.toml", needs_pack_table=True)
    return pack.model_copy(update={"checks": shipped.checks, "context": shipped.context})


def _with_shipped_moments(folder: PackFolder, pack: PackFile) -> tuple[PackFile, Path]:
    """An old-layout folder that declares no records, steps, dates or latches runs the shipped
    pack's records, and so its steps, dates and latches too (which the shipped rules read), and the
    shipped numbers those read, under its own; with where they were read from."""
    if not (folder.legacy and not (pack.records or pack.steps or pack.dates or pack.latches)):
        return pack, folder.pack_file
    where = shipped_pack(DEFAULT_PACK) / "pack.toml"
    shipped = read_pack_file(where, needs_pack_table=True)
    numbers = type(pack.playbook).model_validate({**shipped.playbook.numbers, **pack.playbook.model_dump(exclude_unset=True)})
    update = {"steps": shipped.steps, "dates": shipped.dates, "latches": shipped.latches, "playbook": numbers}
    return pack.model_copy(update=update), where


def _shipped_pack_table() -> PackTable:
    """An old-layout folder has no [pack]: its notes are marked as the shipped pack's are."""
    table = read_pack_file(shipped_pack(DEFAULT_PACK) / "pack.toml", needs_pack_table=True).pack
    assert table is not None  # needs_pack_table
    return table


def _moments(pack: PackFile, env: ImmutableSandboxedEnvironment, where: Path, checks: ChecksTable) -> Moments:
    try:
        moments = compile_moments(pack.dates, pack.latches, env)
    except RulesError as error:
        raise RulesError(f"{where}: {error}") from None
    latches = [(latch.when, latch.value, (*latch.reset_when, *latch.renew_when)) for latch in moments.latches.values()]
    expressions = [*moments.dates.expressions.values(), *(e for w, v, r in latches for e in (*w, v, *r))]
    for expression in expressions:
        check_declared(expression.tree, checks.declared, f"{where}: {expression.where}", repr(expression.source))
    return moments


def _steps(pack: PackFile, declarations: Declarations, where: Path) -> StepPlan:
    plan = load_steps(pack.steps, str(where))
    check_step_records(plan, declarations, str(where))
    return plan


def _read_pack_file(folder: PackFolder) -> PackFile:
    path = folder.pack_file
    if not path.is_file():
        # Defaults would run silently with no holidays, miscounting every business day.
        raise RulesError(
            f"{path} is missing: the rules folder needs {PLAYBOOK_FILE}, which holds the numbers all rules "
            f"share ([playbook]), the names notes use ([contacts]) and the business calendar ([calendar]: "
            f"weekend and holidays); copy it from the shipped {shipped_pack(DEFAULT_PACK) / 'pack.toml'} and adapt it"
        )
    return read_pack_file(path, needs_pack_table=not folder.legacy)


def _load_rule(path: Path, env: ImmutableSandboxedEnvironment, records: PackRecords, kinds: Kinds) -> Rule:
    text, data = read_toml(path)
    name = data.get("rule", {}).get("name", "?") if isinstance(data.get("rule"), dict) else "?"
    try:
        body = RuleFile(**data).rule
    except ValidationError as error:
        raise RulesError(_describe(path, text, error, rule=name)) from None
    conditions = tuple(_condition(env, records, item, path, text, body.name, "when") for item in body.when)
    actions = tuple(
        _action(env, records, kinds, raw, path, text, body.name, index) for index, raw in enumerate(body.actions)
    )
    return Rule(body.name, body.description, body.order, body.on_broken_engagement, conditions,
                MappingProxyType(dict(body.params)), actions, path)


def _condition(env, records: PackRecords, source: str, path: Path, text: str, rule: str, key: str) -> Condition:
    where = f"{path}:{_line_of(text, source)}: rule {rule}, {key}"
    try:
        compiled = compiled_expression(env, source)
        tree = parse_expression(env, source)
    except TemplateSyntaxError as error:
        raise RulesError(f"{where}: condition {source!r} does not compile: {error.message}{_closest(env, error)}") from None
    check_state_names(tree, records.states, where, lambda _: f"condition {source!r}")
    check_declared(tree, set(records.checks), where, f"condition {source!r}")
    check_time_literals(tree, f"{where}: condition {source!r}")
    return Condition(source, where, compiled, tree)


def _closest(env, error: TemplateSyntaxError) -> str:
    """" Did you mean 'length'?" after "No filter named 'lenght'." (or test)."""
    found = re.match(r"No (filter|test) named '([^']+)'", error.message or "")
    if not found:
        return ""
    close = closest(found.group(2), env.filters if found.group(1) == "filter" else env.tests)
    return f" Did you mean {close!r}?" if close else ""


def _action(env, records: PackRecords, kinds: Kinds, raw: dict[str, Any], path: Path, text: str, rule: str,
            index: int) -> Action:
    kind = _kind_of(kinds, raw, path, text, rule, index)
    try:
        options = kind.fields(**raw)
    except ValidationError as error:
        raise RulesError(_describe(path, text, error, rule=rule, within=("rule", "actions", index))) from None
    line = _action_line(text, index)
    line = _line_of(text, f'type = "{kind.name}"') if line == "?" else line
    where = f"{path}:{line}: rule {rule}, actions[{index}] ({kind.name})"
    targets = tuple([options.target] if isinstance(options.target, str) else options.target)
    targets = tuple(target for target in targets if target)
    _check_action_fields(kind, options, targets, records, where)
    for label, source in options.inline_templates().items():
        if source:
            try:
                tree = parsed_template(env, source)
            except TemplateSyntaxError as error:
                raise RulesError(f"{where}: {label} template does not compile: {error.message}") from None
            check_state_names(tree, records.states, where, lambda _: f"{label} template {source!r}")
            check_declared(tree, set(records.checks), where, f"{label} template {source!r}")
            check_time_literals(tree, f"{where}: {label} template {source!r}")
    for key, template in options.template_files().items():
        line = _action_line(text, index, f"{key} =")
        _check_template(env, records, template, where, f"{key} =", line)
    when = tuple(_condition(env, records, item, path, text, rule, f"actions[{index}].when") for item in options.when)
    record_filter = (_condition(env, records, options.where, path, text, rule, f"actions[{index}].where")
                     if options.where else None)
    return Action(kind.name, targets, options, when, where, record_filter)


def _kind_of(kinds: Kinds, raw: dict[str, Any], path: Path, text: str, rule: str, index: int) -> ActionKind:
    given = raw.get("type")
    if isinstance(given, str) and given in kinds:
        return kinds[given]
    raise RulesError(_unknown_kind(path, text, rule, index, given, tuple(kinds)))


def _check_template(env, records: PackRecords, template: str, where: str, key: str, line: str) -> None:
    if not template:
        return
    try:
        env.get_template(template)  # compiles it: an unknown filter or test is refused here
        tree = parsed_template(env, env.loader.get_source(env, template)[0])
    except TemplateSyntaxError as error:
        raise RulesError(f"{where}: template {template}, line {error.lineno}: {error.message}{_closest(env, error)}") from None
    except Exception:  # noqa: BLE001 - TemplateNotFound and loader errors
        folder = templates_folder(env)
        raise RulesError(
            f"{where}: template {template!r} is not in the templates folder {folder}"
            f"{did_you_mean(template, env.list_templates())}: fix `{key}` on line {line} of the rules file, "
            f"or add the template to that folder"
        ) from None
    check_state_names(tree, records.states, where, lambda at: f"template {template}, line {at},")
    check_declared(tree, set(records.checks), where, f"template {template}")
    check_time_literals(tree, f"{where}: template {template}")


def _check_action_fields(kind: ActionKind, options: ActionFields, targets: tuple[str, ...], records: PackRecords,
                         where: str) -> None:
    for target in targets:
        # An each: target is checked below.
        if each_role(target) is None and target not in records.targets:
            raise RulesError(f"{where}: target {target!r} is not one of {', '.join(records.targets)}"
                             f"{did_you_mean(target, records.targets)}")
    if kind.needs_target and not targets:
        raise RulesError(f"{where}: set target to one of {', '.join(records.targets)}")
    check_each_targets(kind.name, kind.each, targets, options.where, records.declarations, where)
    if kind.check is not None:
        kind.check(options, targets, records, where)
    if not options.template:
        raise RulesError(f"{where}: set template to a file of the templates folder (the note to post)")


def states_for(targets: tuple[str, ...], records: PackRecords) -> list[str]:
    """The state names an action on ``targets`` may set: those every target's role declares."""
    roles = [records.role_of(target) for target in targets if target != "problems"]
    if not roles:
        return []
    common = [state for state in records.declarations.records[roles[0]].states]
    return [state for state in common if all(state in records.declarations.records[role].states for role in roles)]


def _refuse_duplicate_names(rules: tuple[Rule, ...]) -> None:
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.name in seen:
            raise RulesError(f"{rule.file}: rule name {rule.name!r} is also used in {seen[rule.name]}; names must be unique")
        seen[rule.name] = rule.file
