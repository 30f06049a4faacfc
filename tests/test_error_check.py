"""The suite's check on logged errors (tests/conftest.py): an unexpected ERROR fails a test."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CHECK = Path(__file__).with_name("conftest.py").read_text(encoding="utf-8")

MARKERS = """
[pytest]
markers =
    expected_errors(*substrings): the test logs ERROR records on purpose
"""


@pytest.fixture
def checked(pytester):
    """A scratch pytest project that runs under this suite's conftest, loaded as a plugin."""
    pytester.makepyfile(error_check_plugin=CHECK)
    pytester.makeini(MARKERS)
    pytester.syspathinsert()
    return pytester


def run(checked, test_source: str):
    checked.makepyfile(test_source)
    return checked.runpytest("-p", "error_check_plugin", "--strict-markers")


@pytest.mark.expected_errors("the sandbox refused the write")
def test_a_test_that_logs_an_unexpected_error_fails_and_says_what_was_logged(checked):
    result = run(checked, """
        import logging

        def test_cycle():
            logging.getLogger("etiu_worker.cycle.engine").error("the sandbox refused the write")
    """)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*logged errors the test does not expect*",
                                 "*ERROR etiu_worker.cycle.engine: the sandbox refused the write"])


@pytest.mark.expected_errors("could not be verified", "lost its answer")
def test_expected_errors_pass_only_when_each_message_contains_a_declared_substring(checked):
    result = run(checked, """
        import logging
        import pytest

        log = logging.getLogger("etiu_worker.cycle.verify")

        @pytest.mark.expected_errors("could not be verified")
        def test_declared():
            log.error("the write to CHG001 could not be verified")

        @pytest.mark.expected_errors("could not be verified")
        def test_another_error_than_declared():
            log.error("the write to CHG002 lost its answer")
    """)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_another_error_than_declared*",
                                 "*lost its answer*"])


@pytest.mark.expected_errors("the instance went away")
def test_an_error_logged_while_the_root_logger_is_quietened_is_still_seen(checked):
    result = run(checked, """
        import logging

        def test_quiet_root(caplog):
            caplog.set_level(logging.CRITICAL + 1)
            logging.getLogger("etiu_worker.cycle.runner").error("the instance went away")
    """)
    result.assert_outcomes(passed=1, errors=1)
