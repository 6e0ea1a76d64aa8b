"""`fetch wdi` / `fetch ilostat` against a loopback HTTP server that serves the real published files.

The server stands in for api.worldbank.org and rplumber.ilo.org at the same paths; no test touches
the internet.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sesreport.cli import main
from sesreport.data import readers
from sesreport.data.fetch import MB, STATE_FILE, fetch
from sesreport.data.fetch.store import Staging
from sesreport.errors import UserError
from tests.conftest import REPO, need_real

from .httpserver import LocalServer, Reply, closed_port_url

REAL = need_real()

CODE = "SL.UEM.TOTL.ZS"
WDI_NAMES = [
    f"API_{CODE}_DS2_en_csv_v2_10473697.csv",
    f"Metadata_Country_API_{CODE}_DS2_en_csv_v2_10473697.csv",
    f"Metadata_Indicator_API_{CODE}_DS2_en_csv_v2_10473697.csv",
]
WDI_PATH = f"/v2/en/indicator/{CODE}?downloadformat=csv"
ILO_ID = "ILR_TUMT_NOC_RT"
ILO_PATH = f"/data/indicator?id={ILO_ID}_A&format=.csv.gz"
ILO_FILE = REAL / "ilostat" / f"{ILO_ID}_A.csv"

# Read by hand from the raw file: the "Russian Federation","RUS" row, column "2018" (its last year).
RUS_2018_UNEMPLOYMENT = 5.06099987030029
STAMP = datetime(2025, 3, 4, 5, 6, 7)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def wdi_members() -> dict[str, bytes]:
    return {name: (REAL / "wdi_api" / name).read_bytes() for name in WDI_NAMES}


def wdi_reply(members: dict[str, bytes], etag: str | None = '"wdi-10473697"') -> Reply:
    """As the World Bank serves it: the three CSVs flat in a ZIP named after the data file."""
    return Reply(zip_of(members), etag=etag, headers={
        "Content-Type": "application/zip",
        "Content-Disposition": f"attachment; filename=API_{CODE}_DS2_en_csv_v2_10473697.zip"})


def leftovers(folder: Path) -> list[str]:
    """Temporary files that a fetch must never leave behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part"))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "SESREPORT_WDI_URL", "SESREPORT_ILOSTAT_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    with LocalServer() as srv:
        srv.routes[WDI_PATH] = wdi_reply(wdi_members())
        srv.routes[ILO_PATH] = Reply(gzip.compress(ILO_FILE.read_bytes(), mtime=0),
                                     headers={"Content-Type": "application/gzip"})
        yield srv


# ------------------------------------------------------------------------------------------------
# The files arrive as published


def test_wdi_members_land_under_their_own_names_byte_identical(server, tmp_path):
    written = fetch("wdi", [CODE], tmp_path, base_url=server.url, now=STAMP)
    assert sorted(written) == sorted(tmp_path / "wdi_api" / name for name in WDI_NAMES)
    for name in WDI_NAMES:
        assert (tmp_path / "wdi_api" / name).read_bytes() == (REAL / "wdi_api" / name).read_bytes()
    assert leftovers(tmp_path) == []
    agent = server.requests[0].headers["User-Agent"]
    assert "sesreport/" in agent


def test_cli_fetch_wdi_succeeds_and_reports_each_file(server, tmp_path, capsys):
    assert main(["fetch", "wdi", CODE, "--data", str(tmp_path), "--base-url", server.url]) == 0
    err = capsys.readouterr().err
    for name in WDI_NAMES:
        assert name in err
    assert f"({(REAL / 'wdi_api' / WDI_NAMES[0]).stat().st_size:,} bytes)" in err


def test_fetched_wdi_file_reads_to_the_published_value(server, tmp_path):
    fetch("wdi", [CODE], tmp_path, base_url=server.url)
    path = tmp_path / "wdi_api" / WDI_NAMES[0]
    table = readers.read_wdi_api(path, path.name)
    rows = table.rows
    value = rows[(rows["area_code"] == "RUS") & (rows["year"] == 2018)]["value"]
    assert value.tolist() == [RUS_2018_UNEMPLOYMENT]
    assert str(table.vintage) == "2019-01-30"


@pytest.mark.parametrize("given", [ILO_ID, f"{ILO_ID}_A", ILO_ID.lower()])
def test_ilostat_file_is_gunzipped_and_named_as_ilostat_names_it(server, tmp_path, given):
    written = fetch("ilostat", [given], tmp_path, base_url=server.url)
    target = tmp_path / "ilostat" / f"{ILO_ID}_A.csv"
    assert written == [target]
    assert target.read_bytes() == ILO_FILE.read_bytes()
    assert readers.sniff(target) == "ilostat_codes"
    assert leftovers(tmp_path) == []


def test_cli_fetch_ilostat_succeeds(server, tmp_path):
    assert main(["fetch", "ilostat", f"{ILO_ID}_A", "--data", str(tmp_path), "--base-url", server.url]) == 0
    assert (tmp_path / "ilostat" / f"{ILO_ID}_A.csv").read_bytes() == ILO_FILE.read_bytes()


def test_base_url_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("SESREPORT_ILOSTAT_URL", server.url + "/")
    fetch("ilostat", [ILO_ID], tmp_path)
    assert (tmp_path / "ilostat" / f"{ILO_ID}_A.csv").is_file()


# ------------------------------------------------------------------------------------------------
# Fetching again


def test_refetching_identical_content_writes_nothing(server, tmp_path, capsys):
    fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url)
    target = tmp_path / "ilostat" / f"{ILO_ID}_A.csv"
    before = target.stat().st_mtime_ns, target.stat().st_ino
    capsys.readouterr()
    assert fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url) == []
    assert "unchanged" in capsys.readouterr().err
    assert (target.stat().st_mtime_ns, target.stat().st_ino) == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_refetch_asks_conditionally_and_a_304_costs_no_download(server, tmp_path, capsys):
    fetch("wdi", [CODE], tmp_path, base_url=server.url)
    assert "If-None-Match" not in server.requests[0].headers
    capsys.readouterr()
    assert fetch("wdi", [CODE], tmp_path, base_url=server.url) == []
    assert server.requests[1].headers["If-None-Match"] == '"wdi-10473697"'
    err = capsys.readouterr().err
    assert err.count("unchanged") == 3 and "not modified" in err
    assert sorted(p.name for p in (tmp_path / "wdi_api").iterdir()) == sorted(WDI_NAMES)


def test_a_file_edited_locally_is_downloaded_again_in_full(server, tmp_path):
    fetch("wdi", [CODE], tmp_path, base_url=server.url)
    data = tmp_path / "wdi_api" / WDI_NAMES[0]
    data.write_bytes(b"edited by hand")
    written = fetch("wdi", [CODE], tmp_path, base_url=server.url, now=STAMP)
    assert "If-None-Match" not in server.requests[1].headers
    assert written == [data]
    assert data.read_bytes() == (REAL / "wdi_api" / WDI_NAMES[0]).read_bytes()
    assert (data.parent / f"{data.name}.previous-20250304-050607").read_bytes() == b"edited by hand"


def test_different_content_keeps_the_old_file(server, tmp_path, capsys):
    fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url)
    newer = ILO_FILE.read_bytes() + b"ZWE,ILR_TUMT_NOC_RT,BA:1234,2021,9.99,,\n"
    server.routes[ILO_PATH] = Reply(gzip.compress(newer))
    written = fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url, now=STAMP)
    target = tmp_path / "ilostat" / f"{ILO_ID}_A.csv"
    kept = target.with_name(f"{target.name}.previous-20250304-050607")
    assert written == [target]
    assert target.read_bytes() == newer
    assert kept.read_bytes() == ILO_FILE.read_bytes()
    assert kept.name in capsys.readouterr().err
    # a second change in the same second keeps that version too
    server.routes[ILO_PATH] = Reply(gzip.compress(newer + b"ZMB,ILR_TUMT_NOC_RT,BA:1,2021,1.0,,\n"))
    fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url, now=STAMP)
    assert target.with_name(f"{kept.name}-2").read_bytes() == newer


def test_a_new_wdi_release_lands_beside_the_old_one(server, tmp_path, capsys):
    fetch("wdi", [CODE], tmp_path, base_url=server.url)
    renamed = {name.replace("10473697", "99999999"): data for name, data in wdi_members().items()}
    server.routes[WDI_PATH] = wdi_reply(renamed, etag='"wdi-99999999"')
    capsys.readouterr()
    written = fetch("wdi", [CODE], tmp_path, base_url=server.url)
    assert sorted(p.name for p in written) == sorted(renamed)
    names = {p.name for p in (tmp_path / "wdi_api").iterdir()}
    assert set(WDI_NAMES) | set(renamed) == names
    assert "earlier download" in capsys.readouterr().err


def test_the_sidecar_records_what_each_url_gave(server, tmp_path):
    fetch("wdi", [CODE], tmp_path, base_url=server.url, now=STAMP)
    import json

    state = json.loads((tmp_path / STATE_FILE).read_text())["urls"][server.url + WDI_PATH]
    assert state["etag"] == '"wdi-10473697"'
    assert state["fetched"] == "2025-03-04T05:06:07"
    assert sorted(state["files"]) == sorted(f"wdi_api/{name}" for name in WDI_NAMES)


# ------------------------------------------------------------------------------------------------
# Failures: exit 2, a clear message, no traceback, nothing written


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(["fetch", *argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_unknown_wdi_code_is_a_404_naming_the_code(server, tmp_path, capsys):
    data = tmp_path / "data"
    code, err = run_cli(capsys, "wdi", "SL.UEM.NOPE.ZS", "--data", str(data), "--base-url", server.url)
    assert code == 2
    assert "SL.UEM.NOPE.ZS" in err and "404" in err
    assert not data.exists()  # not even an empty folder is left behind


def test_unknown_ilostat_id_is_a_404_naming_the_id(server, tmp_path, capsys):
    code, err = run_cli(capsys, "ilostat", "NOPE_TUMT_NOC_RT", "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert "NOPE_TUMT_NOC_RT" in err and "404" in err


def test_world_bank_xml_error_means_unknown_indicator(server, tmp_path, capsys):
    server.routes["/v2/en/indicator/XX.BAD?downloadformat=csv"] = Reply(
        b'<?xml version="1.0" encoding="utf-8"?>\r\n<wb:error xmlns:wb="http://www.worldbank.org">\r\n'
        b'  <wb:message id="120" key="Invalid value">The provided parameter value is not valid</wb:message>\r\n'
        b'</wb:error>', headers={"Content-Type": "application/xml"})
    code, err = run_cli(capsys, "wdi", "XX.BAD", "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert "XX.BAD" in err and "The provided parameter value is not valid" in err


def test_server_down_is_a_clear_message(tmp_path, capsys):
    url = closed_port_url()
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", url)
    assert code == 2
    assert "could not connect" in err and "refused" in err and url.split("//")[1] in err
    assert leftovers(tmp_path) == []


def test_html_page_instead_of_a_zip(server, tmp_path, capsys):
    server.routes[WDI_PATH] = Reply(b"<!DOCTYPE html><html><head><title>Service Unavailable - Maintenance"
                                    b"</title></head><body>Back soon</body></html>",
                                    headers={"Content-Type": "text/html"})
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert "HTML page" in err and "Maintenance" in err and "ZIP" in err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_html_page_instead_of_ilostat_csv(server, tmp_path, capsys):
    server.routes[ILO_PATH] = Reply(b"<html><head><title>Just a moment...</title></head></html>")
    code, err = run_cli(capsys, "ilostat", ILO_ID, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert "HTML page" in err and "ILOSTAT CSV" in err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_empty_response(server, tmp_path, capsys):
    server.routes[ILO_PATH] = Reply(b"")
    code, err = run_cli(capsys, "ilostat", ILO_ID, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2 and "empty" in err and ILO_ID in err


def test_http_server_error(server, tmp_path, capsys):
    server.routes[WDI_PATH] = Reply(b"oops", status=503)
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2 and "503" in err and "try again later" in err


def test_timeout(server, tmp_path):
    server.routes[WDI_PATH] = Reply(b"late", delay=2.0)
    with pytest.raises(UserError, match="no answer from .* within 0.3 seconds"):
        fetch("wdi", [CODE], tmp_path, base_url=server.url, timeout=0.3)
    assert leftovers(tmp_path) == []


def test_zip_path_traversal_is_refused(server, tmp_path):
    members = wdi_members()
    members["../evil.csv"] = b"pwned"
    server.routes[WDI_PATH] = wdi_reply(members)
    data = tmp_path / "data"
    with pytest.raises(UserError, match="not a plain file name"):
        fetch("wdi", [CODE], data, base_url=server.url)
    assert not (tmp_path / "evil.csv").exists() and not (data / "evil.csv").exists()
    assert not any(p.is_file() for p in data.rglob("*"))


def test_zip_without_the_data_file(server, tmp_path):
    server.routes[WDI_PATH] = wdi_reply({WDI_NAMES[1]: wdi_members()[WDI_NAMES[1]]})
    with pytest.raises(UserError, match=r"no single API_SL\.UEM\.TOTL\.ZS_DS2_"):
        fetch("wdi", [CODE], tmp_path, base_url=server.url)


def test_damaged_gzip(server, tmp_path):
    server.routes[ILO_PATH] = Reply(gzip.compress(ILO_FILE.read_bytes())[:500])
    with pytest.raises(UserError, match="damaged"):
        fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url)
    assert leftovers(tmp_path) == []


def test_one_bad_code_means_nothing_is_written(server, tmp_path):
    with pytest.raises(UserError) as caught:
        fetch("wdi", [CODE, "SL.UEM.NOPE.ZS"], tmp_path, base_url=server.url)
    assert len(caught.value.problems) == 1 and "SL.UEM.NOPE.ZS" in str(caught.value)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_malformed_ids_are_all_reported_before_any_download(server, tmp_path):
    with pytest.raises(UserError) as caught:
        fetch("ilostat", ["UNE_TUNE_SEX_AGE_RT_Q", "bad id", ILO_ID], tmp_path, base_url=server.url)
    text = str(caught.value)
    assert "quarterly" in text and "'bad id'" in text
    assert server.requests == []


def test_base_url_must_be_http(tmp_path, capsys):
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", "file:///etc")
    assert code == 2 and "--base-url" in err


def test_fetched_file_gets_its_download_date_as_vintage(tmp_path, server):
    """An ILOSTAT bulk file carries no date; the day it was fetched is its vintage, not a guess."""
    import shutil

    from sesreport.data.load import load_dataset
    from tests.conftest import CONFIG

    data = tmp_path / "data"
    fetch("ilostat", ["ILR_TUMT_NOC_RT"], data, base_url=server.url,
          now=datetime(2026, 3, 14, 9, 30, tzinfo=UTC))
    (data / "wdi_api").mkdir()
    meta = "wdi_api/Metadata_Country_API_11_DS2_en_csv_v2_3053363.csv"
    shutil.copy(REAL / meta, data / meta)
    (data / "sources.yaml").write_text(f"countries:\n  path: {meta}\nsources:\n  - id: ilo\n    path: ilostat/*.csv\n"
                                       "    publisher: ILO\n    vintage: 2022-07-01\n")
    ds = load_dataset(data, CONFIG, cache_dir=tmp_path / "cache")
    [info] = ds.files
    assert (info.vintage, info.vintage_from) == ("2026-03-14", "downloaded")


# ------------------------------------------------------------------------------------------------
# A hostile server: it trickles, inflates, redirects elsewhere, cuts off; the fetch is killed


def test_a_trickling_server_ends_at_the_deadline(server, tmp_path, capsys):
    """One byte every 0.2 s never trips the 2-second read timeout; the 1.5-second deadline stops it."""
    server.routes[ILO_PATH] = Reply(gzip.compress(ILO_FILE.read_bytes()), trickle=0.2)
    started = time.monotonic()
    code, err = run_cli(capsys, "ilostat", ILO_ID, "--data", str(tmp_path), "--base-url", server.url,
                        "--timeout", "2", "--deadline", "1.5")
    elapsed = time.monotonic() - started
    assert code == 2
    assert f"the download from {server.url.split('//')[1]} did not finish within 1.5 seconds" in err
    assert "--deadline SECONDS" in err
    assert 1.4 < elapsed < 4
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_the_deadline_also_covers_a_server_slow_to_send_its_headers(server, tmp_path):
    server.routes[WDI_PATH] = Reply(b"late", delay=3.0)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"did not finish within 1 seconds \(0 bytes received\)"):
        fetch("wdi", [CODE], tmp_path, base_url=server.url, timeout=5, deadline=1)
    assert time.monotonic() - started < 2.5
    assert leftovers(tmp_path) == []


def test_a_gzip_bomb_is_refused_at_the_cap(server, tmp_path, capsys):
    bomb = gzip.compress(b"0" * 20_000_000, compresslevel=9)  # 20 MB of zeros in about 20 KB
    assert len(bomb) < 100_000
    server.routes[ILO_PATH] = Reply(bomb)
    code, err = run_cli(capsys, "ilostat", ILO_ID, "--data", str(tmp_path), "--base-url", server.url,
                        "--max-size", "5")
    assert code == 2
    assert f"the file unpacked from {server.url}{ILO_PATH} ({len(bomb) / 1e6:,g} MB gzipped) is larger than the " \
           f"5 MB limit; refused, nothing was written" in err
    assert "raise the limit with --max-size MB" in err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_zip_member_inflating_past_the_cap_is_refused(server, tmp_path):
    members = wdi_members()
    members[WDI_NAMES[0]] += b"\r\n" * 3_000_000  # 6 MB more: the file itself, grown
    server.routes[WDI_PATH] = wdi_reply(members)
    with pytest.raises(UserError, match=rf"{re.escape(WDI_NAMES[0])} in the archive from .* \(\d[\d.]* MB declared\) "
                                        r"is larger than the 5 MB limit"):
        fetch("wdi", [CODE], tmp_path, base_url=server.url, max_size=5 * MB)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_an_announced_length_above_the_cap_is_refused_before_the_body(server, tmp_path):
    server.routes[ILO_PATH] = Reply(b"x" * 1000, length=3_000_000_000)
    with pytest.raises(UserError, match=r"\(3,000 MB announced\) is larger than the 500 MB limit"):
        fetch("ilostat", [ILO_ID], tmp_path, base_url=server.url)
    assert leftovers(tmp_path) == []


def test_a_redirect_to_another_host_is_refused(server, tmp_path, capsys):
    port = server.url.rsplit(":", 1)[1]
    server.routes[WDI_PATH] = Reply(status=302, headers={"Location": f"http://localhost:{port}/elsewhere"})
    server.routes["/elsewhere"] = wdi_reply(wdi_members())
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert f"redirects (HTTP 302) to http://localhost:{port}/elsewhere, on another host; refused" in err
    assert "add it to fetch.redirect_hosts in sources.yaml" in err
    assert [r.path for r in server.requests] == [WDI_PATH]  # the other host was never asked
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_redirect_to_an_allowed_host_or_the_same_host_is_followed(server, tmp_path, capsys):
    port = server.url.rsplit(":", 1)[1]
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text("countries: {path: meta.csv}\nsources: []\n"
                                         "fetch:\n  redirect_hosts: [localhost]\n")
    server.routes[WDI_PATH] = Reply(status=302, headers={"Location": f"http://localhost:{port}/cdn/wdi.zip"})
    server.routes["/cdn/wdi.zip"] = wdi_reply(wdi_members())
    server.routes[ILO_PATH] = Reply(status=301, headers={"Location": "/mirror/ilo.csv.gz"})
    server.routes["/mirror/ilo.csv.gz"] = Reply(gzip.compress(ILO_FILE.read_bytes()))
    data = tmp_path / "data"
    assert run_cli(capsys, "wdi", CODE, "--data", str(data), "--config", str(config), "--base-url", server.url)[0] == 0
    assert (data / "wdi_api" / WDI_NAMES[0]).read_bytes() == (REAL / "wdi_api" / WDI_NAMES[0]).read_bytes()
    assert fetch("ilostat", [ILO_ID], data, base_url=server.url) == [data / "ilostat" / f"{ILO_ID}_A.csv"]
    assert [r.path for r in server.requests] == [WDI_PATH, "/cdn/wdi.zip", ILO_PATH, "/mirror/ilo.csv.gz"]


def test_a_truncated_transfer_is_reported_as_cut_off(server, tmp_path, capsys):
    whole = wdi_reply(wdi_members()).body
    server.routes[WDI_PATH] = Reply(whole[:50_000], length=len(whole))
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), "--base-url", server.url)
    assert code == 2
    assert f"was cut off after 50,000 of the {len(whole):,} bytes announced" in err
    assert "ZIP" not in err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("option", ["--deadline", "--timeout", "--max-size"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_limits_must_be_positive(tmp_path, capsys, option, value):
    code, err = run_cli(capsys, "wdi", CODE, "--data", str(tmp_path), option, value)
    assert code == 2 and f"{option} must be a positive finite number, not {float(value):g}" in err
    assert not tmp_path.joinpath("wdi_api").exists()


def start_fetch(url: str, data: Path, *options: str) -> subprocess.Popen:
    """`generate.py fetch ilostat` in its own process, against a server that trickles; returns once
    the download is being staged."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    process = subprocess.Popen([sys.executable, "generate.py", "fetch", "ilostat", ILO_ID, "--data", str(data),
                                "--config", str(data.parent), "--base-url", url, *options],
                               cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not leftovers(data) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert leftovers(data), "the fetch never started staging its download"
    return process


def test_the_part_files_of_a_killed_fetch_are_removed_by_the_next(server, tmp_path, capsys):
    slow = "/slow" + ILO_PATH
    server.routes[slow] = Reply(gzip.compress(ILO_FILE.read_bytes()), trickle=0.05)
    data = tmp_path / "data"
    process = start_fetch(server.url + "/slow", data)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stderr.close()
    [part] = leftovers(data)
    assert part.startswith(".download.") and part.endswith(".part")
    written = fetch("ilostat", [ILO_ID], data, base_url=server.url)
    assert written == [data / "ilostat" / f"{ILO_ID}_A.csv"]
    assert leftovers(data) == []
    assert f"removed {data / 'ilostat' / part}, left by an interrupted fetch" in capsys.readouterr().err


def test_sigterm_stops_a_fetch_cleanly(server, tmp_path):
    slow = "/slow" + ILO_PATH
    server.routes[slow] = Reply(gzip.compress(ILO_FILE.read_bytes()), trickle=0.05)
    data = tmp_path / "data"
    process = start_fetch(server.url + "/slow", data)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 128 + signal.SIGTERM
    assert "fetch stopped by SIGTERM; its temporary files are removed" in err and "Traceback" not in err
    assert not data.exists()  # a first fetch that was stopped leaves not even its folders


def test_a_signal_handled_as_a_staged_file_is_opened_leaves_nothing(tmp_path, monkeypatch):
    """The handler runs between two bytecodes; right after `open` returns, the file must already be known."""
    real_open = Path.open

    def open_then_stopped(self, *args, **kwargs):
        real_open(self, *args, **kwargs).close()
        raise SystemExit(128 + signal.SIGTERM)  # what the SIGTERM handler raises

    staging = Staging()
    monkeypatch.setattr(Path, "open", open_then_stopped)
    with pytest.raises(SystemExit):
        staging.create(tmp_path, "download")
    monkeypatch.undo()
    assert leftovers(tmp_path)  # the window is real: the file exists
    staging.cleanup()
    assert leftovers(tmp_path) == []


def test_a_second_fetch_waits_for_the_first_and_leaves_its_files_alone(server, tmp_path, capsys):
    """The leftovers a fetch removes are those of a killed one, never those of a fetch still running."""
    slow = "/slow" + ILO_PATH
    server.routes[slow] = Reply(gzip.compress(ILO_FILE.read_bytes()), trickle=0.05)
    data = tmp_path / "data"
    first = start_fetch(server.url + "/slow", data, "--deadline", "3")
    assert fetch("ilostat", [ILO_ID], data, base_url=server.url) == [data / "ilostat" / f"{ILO_ID}_A.csv"]
    err = capsys.readouterr().err
    assert f"waiting for another fetch into {data} to finish" in err and "interrupted fetch" not in err
    _, first_err = first.communicate(timeout=10)
    assert first.returncode == 2 and "did not finish within 3 seconds" in first_err
    assert leftovers(data) == []
