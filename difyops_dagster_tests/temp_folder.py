"""Plugin (`-p difyops_dagster_tests.temp_folder`): a test run writes its temporary files under pytest's temporary
folder, never loose in the system's, so a run leaves nothing behind there (`test_temp_folder.py` proves it).

Why one redirection and not a folder argument in every fixture: the stand-in's, S3's, the receivers' and Dagster's
logs, Dagster's code-server sockets, yt-dlp's scratch folders and Chromium's profiles all come from `tempfile` in
this process or from `$TMPDIR` in a child. Pointing both at a folder inside pytest's base folder (one per xdist
worker) puts every one of them where pytest keeps, shows and prunes its own (the last three runs).

`SYSTEM_TEMP` is the folder as it was, for what must not live under pytest's: PostgreSQL runs as the `postgres`
user, who cannot enter root's pytest folders (mode 0700), so its folder stays there and is removed when it stops.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

SYSTEM_TEMP = tempfile.gettempdir()


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_under_pytest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    folder = str(tmp_path_factory.mktemp("tmp"))
    before = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = folder, folder
    yield
    if before[0] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before[0]
    tempfile.tempdir = before[1]
