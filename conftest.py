"""Test-session settings shared by the unit tests (tests/) and the executed chapters (book/, via nbval).

- The hub is switched off: no test may wait on the network.
- Chapters write their results.json under a temporary SRL_OUT_DIR, never onto the published ones in book/results.
"""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("SRL_OUT_DIR", tempfile.mkdtemp(prefix="srl-test-runs-"))
