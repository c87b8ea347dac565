"""Cold start (issue #17): a web worker imports nothing it does not use on the serving path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import app.main, app.accounts
print(json.dumps({
    "alembic": any(m == "alembic" or m.startswith("alembic.") for m in sys.modules),
    "dummy_hashes": app.accounts.dummy_hash.cache_info().currsize,
}))
"""


def test_importing_the_app_neither_hashes_a_password_nor_imports_alembic():
    # argon2 took ~0.3 s and alembic ~0.25 s of every worker's start; a worker never migrates
    # (serve did) and only a login against a missing user needs the dummy hash.
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {"alembic": False, "dummy_hashes": 0}


def test_the_dummy_hash_is_a_real_argon2_hash():
    from app import accounts

    h = accounts.dummy_hash()
    assert h.startswith("$argon2") and accounts.hasher.verify("not-a-real-password", h)
    assert accounts.dummy_hash() is h
