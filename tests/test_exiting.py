"""Commands end once every exit handler has run, with their status, without the interpreter's teardown."""

import subprocess
import sys

import pytest

SCRIPT = """
import atexit, sys
from aggregator.exiting import LastExit
ending = LastExit()
atexit.register(lambda: open({marker!r}, "w").close())  # registered later: runs before it
class Loud:
    def __del__(self):
        print("freed at teardown", flush=True)
kept = Loud()
print("said before the exit", file=sys.stderr, end="")  # left in the stream's buffer
{set_code}
sys.exit(3)
"""


@pytest.mark.parametrize("set_code", [True, False])
def test_the_last_handler_ends_the_process_after_the_others_with_its_status(tmp_path, set_code):
    marker = tmp_path / "handler-ran"
    script = SCRIPT.format(marker=str(marker), set_code="ending.code = 3" if set_code else "")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert marker.exists()
    assert proc.stderr == "said before the exit"  # flushed before the end
    # Without a status (a program that raised), Python ends as usual and frees its objects.
    assert ("freed at teardown" in proc.stdout) is not set_code


def test_the_command_registers_its_last_handler_before_any_other_but_logging_s():
    # aggregator.cli's imports must not register exit handlers of their own: they would run after
    # the command's last one, that is never (logging's is flushed by it).
    code = "import atexit, logging; n = atexit._ncallbacks(); import aggregator.cli; assert atexit._ncallbacks() == n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_command_s_status_and_output_survive_the_shortened_exit(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - {id: a, kind: rss, url: x}\n")
    proc = subprocess.run(
        [sys.executable, "-c", "from aggregator.cli import main; main()", "validate", "--sources", str(bad)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown kind 'rss'" in proc.stderr
