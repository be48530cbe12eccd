"""Test-session settings shared by the unit tests (tests/) and the executed chapters (book/, via nbval).

- The hub is switched off: no test may wait on the network.
- Chapters write their results.json under a temporary SRL_OUT_DIR, never onto the published ones in book/results.
"""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("SRL_OUT_DIR", tempfile.mkdtemp(prefix="srl-test-runs-"))


def pytest_report_header(config):
    mirror = os.environ.get("SRL_DATA_DIR") or "none (chapters need one: set SRL_DATA_DIR; the hub is off in tests)"
    return [f"data mirror: {mirror}", f"chapter results go to: {os.environ['SRL_OUT_DIR']}"]
