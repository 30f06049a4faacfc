"""The ``etiu-worker`` command line.

Exit codes (also in the README and ``etiu-worker --help``):
  0  success
  1  one or more actions failed or could not be verified
  2  usage error (unknown option, missing argument)
  3  invalid configuration, rules, templates or state folder (nothing was written to ServiceNow)
  4  ServiceNow unreachable, rate limiting it for good, or authentication refused
  5  another run holds the state folder's lock
 70  internal error (a bug: please report it with the --debug output)
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
import tempfile
import traceback
from pathlib import Path

import click

from .. import errors
from .advice import advice_for
from .demo_packs import demo_packs, pack_names, seeded
from .output import SANDBOX_PASSWORD
from .rules import rules
from ..config import Settings, load_settings
from ..logs import setup_logging
from ..playbook.packs import configured_names

EPILOG = """\b
Examples:
  etiu-worker demo                          try it on the built-in sandbox
  etiu-worker --config /etc/etiu.toml run --once   one cycle (cron)
  etiu-worker run                           loop every worker.poll_interval seconds
  etiu-worker plan                          what a cycle would do; writes nothing
  etiu-worker plan --full                   the same, with every note in full
  etiu-worker rules check                   validate the packs offline (rules, templates)
  etiu-worker rules test                    run each pack's rules on its fixtures/
  etiu-worker rules init ./my-etiu          copy the shipped pack to tune it
  etiu-worker journal --outcome unverified  what the worker did, newest first
  etiu-worker journal --show 3f2a9c1b0d4e   one action and its whole note, by the note's ref
  etiu-worker report --view no-prod-upgrade   engagements with tickets open, no prod upgrade scheduled
  etiu-worker report --html report.html     the same as one self-contained page with timelines
  etiu-worker report --format csv > engagements.csv   the same rows for a spreadsheet (or json)
  etiu-worker sandbox --port 8080           serve the sandbox instance

\b
Exit codes:
  0 success                 1 actions failed or unverified
  2 usage error             3 invalid configuration, rules or state folder
  4 ServiceNow unreachable or authentication refused
  5 another run holds the lock                70 internal error
"""

log = logging.getLogger("etiu_worker")


class Context:
    """What every subcommand shares: the parsed global options and lazily loaded settings."""

    def __init__(self, config: Path | None, debug: bool, log_format: str | None) -> None:
        self.config = config
        self.debug = debug
        self.log_format = log_format
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
            setup_logging(
                "DEBUG" if self.debug else self._settings.worker.log_level,
                self.log_format or self._settings.worker.log_format,
                self._settings.servicenow.secrets(),
            )
        return self._settings


pass_context = click.make_pass_decorator(Context)

format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True,
    help="text for people; json (one list of objects) or csv (a header row, one row per item) for scripts.",
)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file (or ETIU_CONFIG).")
@click.option("--debug", is_flag=True, help="Log at DEBUG and show tracebacks.")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Overrides worker.log_format.")
@click.version_option(package_name="etiu-worker")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, debug: bool, log_format: str | None) -> None:
    """Keep ServiceNow Express-to-Enterprise upgrade engagements in line with the playbook."""
    ctx.obj = Context(config, debug, log_format)


@cli.command()
@click.option("--once", is_flag=True, help="Run one cycle and exit (for cron).")
@click.option("--adopt-state", is_flag=True,
              help="Take over a state folder recorded for another instance (or state.adopt): keeps the journal, reads every record again.")
@pass_context
def run(context: Context, once: bool, adopt_state: bool) -> None:
    """Sync the engagements and enforce the playbook, once or in a loop."""
    from ..cycle.runner import run_forever, run_once

    settings = context.settings
    if adopt_state:
        settings = settings.model_copy(update={"state": settings.state.model_copy(update={"adopt": True})})
    if once:
        report = run_once(settings)
        # With JSON logs the log lines are the record (cron appends both streams to one file).
        if (context.log_format or settings.worker.log_format) != "json":
            _print_cycle(report, settings)
        sys.exit(report.exit_code)
    run_forever(settings)


@cli.command()
@format_option
@click.option("--full", is_flag=True, help="Also print every note in full, as it would be posted.")
@pass_context
def plan(context: Context, fmt: str, full: bool) -> None:
    """Print what a cycle would do on the instance, record by record; write nothing."""
    from ..report.text import write_cycle
    from ..cycle.runner import plan_once

    settings = context.settings
    report = plan_once(settings)
    if fmt == "text":
        _print_cycle(report, settings, full=full)
    else:
        write_cycle(report, fmt, configured_names(settings))


cli.add_command(rules)


@cli.command()
@click.option("--port", default=8080, show_default=True, help="Loopback port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; keep it on loopback.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file to keep the data in (default: memory).")
@click.option("--no-demo", is_flag=True, help="Start empty instead of with the demo engagements.")
@click.option("--user", default="admin", show_default=True)
@click.option("--password", default=SANDBOX_PASSWORD, show_default=True)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every request.")
@click.option("--rate-429", type=float, default=0.0, help="Share of requests answered 429.")
@click.option("--rate-5xx", type=float, default=0.0, help="Share of requests answered 500/502/503/504.")
@click.option("--rate-drop", type=float, default=0.0, help="Share of connections dropped unanswered.")
@click.option("--rate-drop-write", type=float, default=0.0, help="Share of writes answered 200 but not saved.")
@click.option("--seed", type=int, help="Random seed for the faults, for reproducible runs.")
def sandbox(port, host, data, no_demo, user, password, latency, rate_429, rate_5xx, rate_drop, rate_drop_write, seed) -> None:
    """Serve the local sandbox instance (a ServiceNow Table API emulator) over HTTP."""
    from .output import sandbox_exports
    from ..sandbox import Faults, Sandbox

    faults = Faults(
        latency=latency, rate_429=rate_429, rate_5xx=rate_5xx, rate_drop=rate_drop,
        rate_drop_write=rate_drop_write, seed=seed,
    )
    instance = Sandbox(data_path=data, user=user, password=password, seed_demo=not no_demo)
    instance.faults = faults

    def announce(ready) -> None:
        click.echo(f"sandbox instance at {ready.url} (user {user}); Ctrl-C to stop")
        for line in sandbox_exports(ready.url, user, password):
            click.echo(f"  {line}")

    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        instance.serve_forever(host=host, port=port, on_ready=announce)
    except KeyboardInterrupt:
        pass
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        click.echo(f"etiu-worker: port {port} on {host} is in use; choose another with --port N, "
                   "or --port 0 for any free port", err=True)
        sys.exit(errors.EXIT_SERVICENOW_UNAVAILABLE)


def _stop_like_ctrl_c(*_: object) -> None:
    raise KeyboardInterrupt


@cli.command()
@click.option("--max-cycles", default=4, show_default=True, help="Stop after this many cycles even if there is still work.")
@click.option("--pack", "packs", multiple=True, metavar="NAME",
              help="Only this shipped pack (repeatable); default: every shipped pack, or the pack the settings name.")
@pass_context
def demo(context: Context, max_cycles: int, packs: tuple[str, ...]) -> None:
    """Run the worker against the built-in sandbox instance and show what it does.

    \b
    Examples:
      etiu-worker demo                      # every shipped pack, each on its own demo engagements
      etiu-worker demo --pack etiu          # one pack: its demo engagements only
    """
    from ..report.output import echo_wrapped
    from ..cycle.runner import demo_settings, run_once
    from ..sandbox import Sandbox

    base = demo_packs(context.settings, packs)
    if not context.debug:
        # The demo's tables say what each cycle did; per-write log lines would repeat them.
        logging.getLogger().setLevel(logging.WARNING)
    etiu_demo, others = seeded(base)
    with Sandbox(seed_demo=etiu_demo, demo_packs=others).start(port=0) as instance, tempfile.TemporaryDirectory() as state:
        settings = demo_settings(base, instance.url, instance.user, instance.password, Path(state))
        echo_wrapped(f"Sandbox instance at {instance.url}, seeded with demo engagements of "
                     f"{', '.join(pack_names(base))}; state in {state}")
        worst = 0
        for number in range(1, max_cycles + 1):
            click.echo(f"\n=== cycle {number} ===")
            report = run_once(settings)
            _print_cycle(report, settings)
            worst = max(worst, report.exit_code)
            if not report.plan.writes:
                click.echo("The instance is in line with the playbook: this cycle wrote nothing.")
                break
        sys.exit(worst)


@cli.command()
@click.option("--engagement", help="Only this engagement key.")
@click.option("--rule", help="Only this rule.")
@click.option("--outcome", type=click.Choice(["planned", "pending", "done", "failed", "unverified"]))
@click.option("--since", type=click.DateTime(), help="Only entries at or after this UTC time.")
@click.option("--until", type=click.DateTime(), help="Only entries before this UTC time.")
@click.option("--limit", default=50, show_default=True)
@click.option("--show", "ref", metavar="REF", help="Only the action whose note has this reference, note in full.")
@format_option
@pass_context
def journal(context: Context, engagement, rule, outcome, since, until, limit, ref, fmt) -> None:
    """List what the worker did, newest first."""
    from .output import show_entry
    from ..state.journal import Journal
    from ..report.text import print_journal, write_journal

    settings = context.settings
    state_dir = settings.state.dir
    if not _holds_anything(state_dir):  # nothing has run yet; the folder is not created
        click.echo(f"The journal has no entries: the state folder {state_dir} holds no journal yet. Run etiu-worker run --once first.")
        return
    with Journal.open_read_only(state_dir) as store:
        if ref is not None:
            show_entry(store, ref.strip(), configured_names(settings), fmt)
            return
        entries = store.entries(
            engagement=engagement, rule=rule, outcome=outcome, since=_utc(since), until=_utc(until), limit=limit
        )
    if fmt == "text":
        print_journal(entries, configured_names(settings))
    else:
        write_journal(entries, fmt, configured_names(settings))


@cli.command("report")
@click.option("--consultant", metavar="NAME", help="Only engagements assigned to NAME: part of the assignee's name or user name, any case, or their sys_id.")
@click.option("--phase", metavar="PHASE", help="Only this phase: one of the configured packs' phases ([[phases]] in pack.toml).")
@click.option("--flagged", is_flag=True, help="Only engagements with open flags.")
@click.option("--view", metavar="VIEW", help="A coordinator's view: one of the configured packs' [[report.views]] (see the README).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the report as one self-contained HTML page, with a timeline per engagement "
                   "(with several packs, one page per pack: the others named PATH's name plus -PACK).")
@click.option("--at", type=click.DateTime(), help="Evaluate dates at this UTC time instead of now.")
@format_option
@pass_context
def report_command(context: Context, consultant, phase, flagged, view, html_path, at, fmt) -> None:
    """Table of engagements from the state folder: phase, roadmap, open tickets, flags, next deadline.

    Reads the record cache and the journal only: it works while ServiceNow is down and sends no request.
    """
    from .output import require_folder_of
    from .report_packs import checked_phase, checked_view
    from ..actions.loading import runtime_packs
    from ..report.coordinator import NoStateError, read_reports
    from ..state.journal import require_journal

    settings = context.settings
    playbooks = runtime_packs(settings)
    view, phase = checked_view(view, playbooks), checked_phase(phase, playbooks)
    if html_path is not None:
        require_folder_of(html_path)
    if _holds_anything(settings.state.dir):  # a missing or empty folder: nothing has run yet
        require_journal(settings.state.dir)
    try:
        built = read_reports(settings, _utc(at), playbooks)
    except NoStateError:
        message = f"No engagements yet: {settings.state.dir} holds no records. Run etiu-worker run --once first."
        click.echo(message, err=fmt != "text")
        if fmt != "text":
            from ..report.text import write_engagements

            write_engagements([], fmt)
        return
    _show_reports(built, playbooks, dict(consultant=consultant, phase=phase, flagged=flagged, view=view), html_path, fmt)


def _show_reports(built, playbooks, wanted: dict, html_path, fmt: str) -> None:
    """Each shown pack's rows as a table (under its title when there are several), JSON, CSV or HTML."""
    from .report_packs import PackReport, shown, write_several
    from ..report.coordinator import select
    from ..report.text import write_engagements

    packs = shown([PackReport(p.name, report) for p, report in zip(playbooks, built)], wanted["view"], wanted["phase"])
    chosen = [(pack, select(pack.report.rows, **wanted, phases=pack.report.phases)) for pack in packs]
    selection = ", ".join(text for text in (
        f"consultant {wanted['consultant']}" if wanted["consultant"] else "", f"phase {wanted['phase']}" if wanted["phase"] else "",
        "flagged" if wanted["flagged"] else "", f"view {wanted['view']}" if wanted["view"] else "") if text)
    if fmt != "text" and len(playbooks) > 1:
        write_several(chosen, fmt)
    for index, (pack, rows) in enumerate(chosen):
        view = wanted["view"]
        title = pack.views[view].title if view else ("Engagements" if len(playbooks) == 1 else _pack_title(pack))
        if fmt == "text":
            _print_report(pack.report, rows, title, selection, separate=index > 0)
        elif len(playbooks) == 1:
            write_engagements(rows, fmt)
        if html_path is not None:
            _write_html(_html_path(html_path, pack.name, index), pack.report, rows, selection, title if view else "", fmt)


def _pack_title(pack) -> str:
    return f"{pack.report.pack.title} (pack {pack.name})" if pack.report.pack else f"pack {pack.name}"


def _print_report(report, rows, title: str, selection: str, *, separate: bool) -> None:
    from ..report.text import print_engagements

    if separate:
        click.echo()
    print_engagements(report, rows, title=title, selection=selection)


def _html_path(path: Path, pack: str, index: int) -> Path:
    """The first pack's page at ``path``; each other pack's beside it, its name added."""
    return path if index == 0 else path.with_name(f"{path.stem}-{pack}{path.suffix}")


def _write_html(path: Path, report, rows, selection: str, view_title: str, fmt: str) -> None:
    from ..report.html import write_report

    try:
        heading = report.pack.title if report.pack else "Engagements"  # the pack's [report] title
        written = write_report(path, report, rows, selection=selection,
                               title=f"{heading}: {view_title}" if view_title else heading)
    except OSError as error:
        raise click.FileError(str(path), hint=error.strerror or str(error)) from None
    click.echo(f"wrote {written}", err=fmt != "text")


def _holds_anything(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _utc(value):
    from datetime import timezone

    return value.replace(tzinfo=timezone.utc) if value is not None else None


def _print_cycle(report, settings: Settings, *, full: bool = False) -> None:
    from ..report.text import print_cycle

    print_cycle(report, configured_names(settings), full=full)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning expected failures into a line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="etiu-worker", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(errors.EXIT_USAGE)
    except click.exceptions.Abort:
        sys.exit(130)
    except errors.EtiuError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"etiu-worker: {type(error).__name__}: {error}", err=True)
        click.echo(f"  {advice_for(error)}", err=True)
        sys.exit(error.exit_code)
    except Exception:  # noqa: BLE001 - the last line of defence
        if debug:
            traceback.print_exc()
        else:
            click.echo("etiu-worker: internal error; run again with --debug for the traceback", err=True)
        sys.exit(errors.EXIT_INTERNAL)
