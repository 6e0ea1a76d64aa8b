"""Inputs built to exhaust memory or time are refused within seconds, under a modest memory cap:
YAML alias bombs and self-references, zip bombs disguised as workbooks, narratives that multiply text.

Each case runs the command line in a subprocess whose address space is capped (RLIMIT_AS), and
asserts the exit code, the message with file and line, that no traceback is printed and the time."""

from __future__ import annotations

import io
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import CONFIG, REPO
from tests.test_data_errors import folder

CAP_MB = 768
SECONDS = 30  # each case takes one to three seconds; the cap is for a loaded machine
DEMO = REPO / "demo" / "data"


def capped(*args: str) -> tuple[int, str, float]:
    """Run `generate.py ARGS` with the address space capped; (exit code, stdout and stderr, seconds)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP_MB << 20, CAP_MB << 20))

    start = time.perf_counter()
    run = subprocess.run([sys.executable, "generate.py", *args], cwd=REPO, capture_output=True, text=True,
                         preexec_fn=limit, timeout=300)
    seconds = time.perf_counter() - start
    output = " ".join((run.stdout + run.stderr).split())
    assert "Traceback" not in output and "MemoryError" not in output, output[-2000:]
    return run.returncode, output, seconds


def billion_laughs() -> str:
    """Nine levels of nine aliases each: 344 bytes that would expand to 387 million strings."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def zip_bomb(path: Path, member: str = "xl/worksheets/sheet1.xml", size: int = 5 << 29) -> Path:
    """A valid workbook archive whose sheet is 2.5 GB of spaces packed into 2.5 MB (stored by hand:
    the same fully flushed deflate block repeated, so the bomb is made in a second)."""
    unit = b" " * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(unit) + packer.flush(zlib.Z_FULL_FLUSH)
    count = size // len(unit)
    data = block * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    name = member.encode()
    fields = (20, 0, 8, 0, 0x21, crc, len(data), count * len(unit), len(name))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path


def test_billion_laughs_in_a_country_config(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "countries" / "KAZ.yaml"
    path.write_text(path.read_text() + "extra:\n" + "".join(f"  {line}\n" for line in billion_laughs().splitlines()))
    code, output, seconds = capped("validate", "--config", str(config), "--data", str(DEMO))
    assert code == 2 and seconds < SECONDS
    # the sixth level is the first beyond the limit: 9**6 strings
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("  f: &f"))
    assert (f"{path}:{line}: the value here expands to more than 100,000 values through YAML aliases (*name); "
            "refused, as a 'billion laughs' file would be") in output


def test_self_referencing_alias_in_sources_yaml(tmp_path):
    """Was a RecursionError traceback."""
    data = folder(tmp_path, {}, "  - id: x\n    path: x.csv\n    publisher: X\n    extra: &loop\n      again: *loop\n")
    code, output, seconds = capped("data", "check", "--data", str(data), "--config", str(CONFIG), "--no-cache")
    assert code == 2 and seconds < SECONDS
    assert (f"{data / 'sources.yaml'}:7: a YAML alias (*name) refers to the value it is part of, which would "
            "never end (write the value out instead of referring to it)") in output


def test_deep_nesting_is_refused(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "countries" / "KAZ.yaml"
    path.write_text(path.read_text() + "extra: " + "[" * 500 + "]" * 500 + "\n")
    code, output, seconds = capped("validate", "--config", str(config), "--data", str(DEMO))
    assert code == 2 and seconds < SECONDS
    assert f"{path}:" in output and "values nested more than 50 levels deep" in output


def test_zip_bomb_workbook(tmp_path):
    """Ran past ten minutes and 3 GB; now refused from the archive's directory, before parsing."""
    name = "ilostat/LAI_INDE_NOC_RT_A_EN.xlsx"
    data = folder(tmp_path, {}, f"  - id: ilo\n    path: {name}\n    layout: ilostat_excel\n    publisher: ILO\n")
    (data / "ilostat").mkdir()
    zip_bomb(data / name)
    assert (data / name).stat().st_size < 3_000_000
    code, output, seconds = capped("data", "check", "--data", str(data), "--config", str(CONFIG), "--no-cache")
    assert code == 2 and seconds < SECONDS
    packed = (data / name).stat().st_size - 200  # the archive's headers aside
    ratio = round((5 << 29) / packed)
    assert (f"{data / name}: 'xl/worksheets/sheet1.xml' in the archive would expand to 2684 MB ({ratio} times its "
            "packed size); refused, as a damaged file or zip bomb might (download the file again from the "
            "publisher)") in output


def test_many_small_members_are_a_bomb_too(tmp_path):
    """Each member under 1 MiB passes the per-member ratio; the archive as a whole does not."""
    book = openpyxl.Workbook()
    book.active.append(["iso3", "indicator", "year", "value"])
    raw = io.BytesIO()
    book.save(raw)
    import zipfile

    path = tmp_path / "data" / "survey.xlsx"
    path.parent.mkdir()
    path.write_bytes(raw.getvalue())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        for i in range(300):
            archive.writestr(f"xl/media/pad{i}.bin", b"\0" * ((1 << 20) - 1))
    from sesreport.data import readers

    with pytest.raises(readers.FileUnreadable) as err:
        readers.read_excel(path, "survey.xlsx")
    message = err.value.problem.message
    assert message.startswith("the archive would expand to 315 MB (") and "in 309 members); refused" in message


@pytest.mark.parametrize("text, message", [
    ("{{ country * 40000000 }}",
     "in a narrative: '* 40000000' would build a text, list or number beyond the limits (at most 10,000 characters "
     "or items)"),
    ("{% for a in ind %}{% for b in ind %}x{% endfor %}{% endfor %}", "not allowed in a narrative: for"),
    ("{{ country.center(1000000000) }}", "not allowed in a narrative: calling a method or function"),
])
def test_narrative_bombs_fail_validate(tmp_path, text, message):
    """`{{ country * 40000000 }}` passed validate and ran past ten minutes and 5.7 GB."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "countries" / "UKR.yaml"
    path.write_text(path.read_text() + f"sections:\n  health:\n    narrative:\n      - text: '{text}'\n")
    line = len(path.read_text().splitlines())
    code, output, seconds = capped("validate", "--config", str(config), "--data", str(DEMO))
    assert code == 2 and seconds < SECONDS
    assert f"{path}:{line}: {message}" in output


RENDER = """
import sys
from sesreport.narrative import Where, render_block
from sesreport.errors import UserError
try:
    render_block(sys.argv[1], {"country": "Ukraine"}, Where("config/countries/UKR.yaml", 12))
except UserError as exc:
    print(exc)
    sys.exit(2)
"""


@pytest.mark.parametrize("text, message", [
    ("{{ (country * 1000) * 9000 }}", "not allowed in a narrative: '… * 9000' would build 63,000,000 characters"),
    ("{{ 2 ** 100000000 }}", "not allowed in a narrative: '2 ** 100000000' would be a number of more than 4,096 bits"),
    ("{{ (country * 1000) ~ (country * 1000) }}" * 10,
     "not allowed in a narrative: it would print more than 50,000 characters"),
    ("{{ 1.5 | number(1000000000) }}", "not allowed in a narrative: 1000000000 decimals asked for; use 0 to 6"),
    ("{{ '%01000000000d' % 1 }}", "not allowed in a narrative: formatting with '%'"),
])
def test_the_sandbox_bounds_what_the_static_check_cannot_see(text, message):
    """Sizes computed at render time: refused before they are built, in the sandbox, under the cap."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP_MB << 20, CAP_MB << 20))

    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", RENDER, text], cwd=REPO, capture_output=True, text=True,
                         preexec_fn=limit, timeout=120)
    assert time.perf_counter() - start < SECONDS
    assert run.returncode == 2, run.stderr
    assert run.stdout.startswith(f"config/countries/UKR.yaml:12: {message}")


def test_message_extraction_refuses_alias_bombs_too():
    """`scripts/messages.py` reads the configs with its own YAML walk: bounded the same way."""
    from sesreport.errors import UserError
    from sesreport.i18n_extract import extract_yaml

    text = io.BytesIO(billion_laughs().encode())
    text.name = "config/countries/KAZ.yaml"
    start = time.perf_counter()
    with pytest.raises(UserError) as err:
        list(extract_yaml(text, [], [], {}))
    assert time.perf_counter() - start < 1
    assert str(err.value).startswith("config/countries/KAZ.yaml:6: the value here expands to more than 100,000")


@pytest.mark.parametrize("make, message", [
    (lambda path: path.write_text("Growth. " * 1_250_000), "holds 10,000,000 bytes (at most 80,000)"),
    (lambda path: path.mkdir(), "not found"),
])
def test_a_narrative_file_too_big_or_not_a_file(tmp_path, make, message):
    """Refused from its size before it is read (it was read whole); a folder was an IsADirectoryError."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "narratives" / "IDN.en.md").unlink()
    make(config / "narratives" / "IDN.en.md")
    country = config / "countries" / "IDN.yaml"
    line = next(i for i, text in enumerate(country.read_text().splitlines(), 1) if "file:" in text)
    code, output, seconds = capped("validate", "--config", str(config), "--data", str(DEMO))
    assert code == 2 and seconds < SECONDS
    assert f"{country}:{line}: narrative file 'narratives/IDN.en.md' {message}" in output


def test_a_yaml_file_too_big_or_not_a_file_is_not_read(tmp_path):
    from sesreport.errors import UserError
    from sesreport.yamlio import load_yaml

    big = tmp_path / "sources.yaml"
    big.write_text("# padding\n" * 900_000)
    with pytest.raises(UserError) as err:
        load_yaml(big)
    assert str(err.value) == (f"{big}: 9,000,000 bytes; a configuration file holds at most 8,388,608 "
                              "(check that this is the file you meant)")
    with pytest.raises(UserError) as err:  # reading it would never end
        load_yaml("/dev/zero")
    assert str(err.value) == "/dev/zero: not a file (give the path of a YAML file)"
