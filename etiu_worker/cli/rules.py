"""``etiu-worker rules``: check, test and copy packs offline; no request is ever sent.

Kept apart from cli.py, which adds this group to the command line; this module does not import cli.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import errors
from .advice import offline_advice

RULES_EPILOG = """\b
Examples:
  etiu-worker rules check                       check every pack of rules.packs
  etiu-worker rules check --pack ./my-pack      check one pack folder
  etiu-worker rules test                        run each pack on its own fixtures/
  etiu-worker rules test --pack etiu packs/etiu/fixtures/window_dst_weekend.toml
  etiu-worker rules init /etc/etiu-worker/etiu  copy the shipped etiu pack to tune it
"""

pack_option = click.option(
    "--pack", "pack", metavar="NAME_OR_PATH",
    help="Only this pack: a shipped pack's name (etiu) or a pack folder (./my-pack). Default: rules.packs, or rules.path.",
)


@click.group(epilog=RULES_EPILOG)
def rules() -> None:
    """Check, test and copy packs (pack.toml, rules, templates, fixtures) offline."""


@rules.command("check")
@pack_option
@click.pass_obj
def rules_check(context, pack: str | None) -> None:
    """Load and check every rules file and template of the packs; no request is sent."""
    from ..actions.loading import load_packs

    with offline_advice("rules check"):
        playbooks = load_packs(context.settings, pack)
    for playbook in playbooks:
        files = playbook.files
        where = files.root if files.legacy else files.rules_dir
        named = "" if files.legacy else f" (pack {playbook.name})"
        click.echo(f"{len(playbook.rules)} rules in {where} are valid{named}:")
        for rule in playbook.rules:
            click.echo(f"  {rule.name}: {rule.summary}")


@rules.command("test")
@pack_option
@click.argument("fixtures", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def rules_test(context, pack: str | None, fixtures: tuple[Path, ...]) -> None:
    """Run the rules offline against engagement fixtures and say why each matched or not.

    Without FIXTURES, each pack runs on the fixtures of its own fixtures/ folder.
    """
    from ..actions.loading import load_packs
    from ..cycle.rule_tester import run_fixture

    failed = total = 0
    with offline_advice("rules test"):
        settings = context.settings
        for playbook, paths in _fixtures_of(load_packs(settings, pack), fixtures):
            for path in paths:
                result = run_fixture(path, playbook, settings)
                click.echo(result.render())
                failed += not result.passed
                total += 1
    if failed:
        click.echo(f"{failed} of {total} fixtures did not meet their [expect] section", err=True)
        sys.exit(errors.EXIT_ACTIONS_FAILED)


def _fixtures_of(playbooks, fixtures: tuple[Path, ...]):
    """Each pack with the fixtures it runs: those given, else those of its fixtures/ folder."""
    if fixtures:
        if len(playbooks) > 1:
            names = ", ".join(playbook.name for playbook in playbooks)
            raise click.UsageError(f"rules.packs lists several packs ({names}): choose the one the fixtures are for with --pack NAME")
        return [(playbooks[0], fixtures)]
    chosen = [(playbook, sorted(playbook.files.fixtures_dir.glob("*.toml"))) for playbook in playbooks]
    for playbook, paths in chosen:
        if not paths:
            raise click.UsageError(f"the pack {playbook.name} has no fixtures in {playbook.files.fixtures_dir}: "
                                   f"name fixture files, e.g. etiu-worker rules test my_case.toml")
    return chosen


@rules.command("init")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=True, path_type=Path))
@click.option("--pack", "pack", default="etiu", show_default=True, metavar="NAME", help="The shipped pack to copy.")
def rules_init(folder: Path, pack: str) -> None:
    """Copy a shipped pack (pack.toml, rules, templates, fixtures) into DIR, a new or empty folder,
    to tune it there; then point rules.path (ETIU_RULES__PATH) at DIR.

    \b
    Example:
      etiu-worker rules init /etc/etiu-worker/etiu
      ETIU_RULES__PATH=/etc/etiu-worker/etiu etiu-worker rules check
    """
    from ..playbook.pack_init import TargetNotEmptyError, copy_shipped_pack

    try:
        copied = copy_shipped_pack(pack, folder)
    except TargetNotEmptyError as error:
        raise click.BadParameter(str(error), param_hint="DIR") from None
    except errors.RulesError as error:
        raise click.BadParameter(str(error), param_hint="--pack") from None
    click.echo(f"copied the shipped pack {copied.name} ({copied.summary()}) to {folder}")
    click.echo(f"  check it with: ETIU_RULES__PATH={folder} etiu-worker rules check")
