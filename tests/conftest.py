"""Shared pytest fixtures: the real NSE data folder (skipped with a reason when absent) and a fresh AITRADER_HOME."""
import os
import pytest
from aitrader.core.config import get_config


@pytest.fixture(scope="session")
def data_dir():
    d = get_config().data_dir
    if d is None or not d.is_dir():
        pytest.skip("no NSE data folder: set AITRADER_DATA_DIR or place ../shared/data/nse beside the project")
    return d


@pytest.fixture()
def home(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path))
    monkeypatch.setenv("AITRADER_DATA_DIR", str(data_dir))
    return tmp_path


# --- Store backends: every store/job/API test module that uses `backend` runs on DuckDB and on a real PostgreSQL ---
from aitrader.storage.pgserver import TempPostgres, pg_bin


@pytest.fixture(scope="session")
def pg_server():
    "One throwaway PostgreSQL server for the session (initdb in a temp dir, unix socket only, stopped at the end)."
    if pg_bin() is None:
        if os.environ.get("CI") or os.environ.get("AITRADER_REQUIRE_PG"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs the Debian package `postgresql`")
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    with TempPostgres() as pg: yield pg


@pytest.fixture(params=["duckdb", "postgres"])
def backend(request, monkeypatch):
    "'duckdb' (the embedded default) or 'postgres' (AITRADER_DB_URL set to a fresh database of the session server)."
    monkeypatch.delenv("AITRADER_DB_URL", raising=False)
    if request.param == "duckdb":
        yield "duckdb"; return
    pg = request.getfixturevalue("pg_server")
    url = pg.create_db()
    monkeypatch.setenv("AITRADER_DB_URL", url)
    yield "postgres"
    pg.drop_db(url)
