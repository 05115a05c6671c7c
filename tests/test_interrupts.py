"""Every CLI ends a SIGINT / SIGTERM with one line and exit status 128 + the signal number."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aot_plus.interrupts import Interrupted, StopRequest, run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_cli_turns_a_signal_into_one_line(signum, capsys):
    def tool() -> int:
        os.kill(os.getpid(), signum)
        time.sleep(5)
        return 0

    before = signal.getsignal(signum)
    assert run_cli(tool, survives="nothing lost") == 128 + signum
    assert capsys.readouterr().err == f"interrupted by {signal.Signals(signum).name}; nothing lost\n"
    assert signal.getsignal(signum) == before  # the previous handler is back


def test_stop_request_waits_for_the_loop_and_a_second_signal_stops_at_once():
    with StopRequest() as stop:
        assert not stop.agreed()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.agreed() and stop.signum == signal.SIGTERM
        with pytest.raises(Interrupted, match="again"):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert str(stop.interrupted("at step 3")) == "interrupted by SIGTERM at step 3"


def test_sigint_in_a_real_process_prints_no_traceback(tmp_path):
    code = ("import sys, time\nfrom aot_plus.interrupts import run_cli\n"
            "def tool():\n    print('ready', flush=True)\n    time.sleep(60)\n    return 0\n"
            "sys.exit(run_cli(tool))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == "interrupted by SIGINT\n"
