"""The advice line the command line prints under an error: what the user should do next.

Kept apart from cli.py, which is the commands' wiring; this module does not import cli.
"""

from __future__ import annotations

from contextlib import contextmanager

from .. import errors


@contextmanager
def offline_advice(command: str):
    """The rules commands only read files: their errors end with what to fix, not with what was
    not sent to ServiceNow (nothing ever is)."""
    try:
        yield
    except errors.EtiuError as error:
        error.advice = f"Fix the setting or file named above and run etiu-worker {command} again."
        raise


def advice_for(error: errors.EtiuError) -> str:
    """What to do next after this error: its own advice where it has one, else by its kind."""
    if getattr(error, "advice", ""):
        return error.advice
    if isinstance(error, errors.TokenRefusedError):
        return "Check the OAuth settings named above (servicenow.auth, ETIU_SERVICENOW__CLIENT_ID, ETIU_SERVICENOW__CLIENT_SECRET)."
    if isinstance(error, errors.AuthenticationError):
        return "Check ETIU_SERVICENOW__USER and ETIU_SERVICENOW__PASSWORD (the user needs web service access)."
    if isinstance(error, errors.UnreachableError):
        return "Check ETIU_SERVICENOW__URL and the network path to the instance; the worker will retry next cycle."
    if isinstance(error, (errors.ConfigError, errors.RulesError, errors.TemplateError)):
        return "Nothing was sent to ServiceNow. Fix the setting or file named above and run again."
    if isinstance(error, errors.StateError):
        return "Nothing was written to ServiceNow. Do what the line above says, then run again."
    if isinstance(error, errors.LockedError):
        return "Another etiu-worker run is in progress on this state folder; this one did nothing."
    return "See the log above; run again with --debug for details."
