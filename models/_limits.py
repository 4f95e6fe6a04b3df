"""Bounds on what one input may cost to read: rows, unpacked bytes, cells.

Every reader of untrusted bytes stops as soon as one of these is passed and
reports it as a ``Problem`` (``file:row: -: message``), so that a small
hostile file (a zip bomb, a workbook whose one row is numbered 200,000,000,
a CSV of a million blank lines) costs little time and memory. The API
passes its own ``max_rows``; the defaults fit the largest sheet a
spreadsheet program makes.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from models._problems import Problem, ScenarioError

SHEET_ROWS = 1_048_576
"""Rows of a worksheet (as in every spreadsheet program): row numbers past it are not read."""
SHEET_COLUMNS = 16_384
"""Columns of a worksheet (A to XFD)."""
UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
    KeyError,
    OverflowError,
    IndexError,
)
"""What ``zipfile`` raises for a corrupt, encrypted or unsupported archive."""


@dataclass(frozen=True)
class Limits:
    """How much one input may hold.

    ``max_rows`` data rows per table; ``max_unpacked`` bytes once a zip (or
    a workbook, itself a zip) is unpacked; ``max_ratio`` unpacked bytes per
    packed byte of any member over ``ratio_floor`` bytes (real CSV and
    XML pack 5 to 20 times; bombs thousands); ``max_members`` files in a
    zip; ``max_cells`` cells of one workbook.
    """

    max_rows: int = SHEET_ROWS - 1
    max_unpacked: int = 256 * 2**20
    max_ratio: int = 200
    ratio_floor: int = 2**20
    max_members: int = 1000
    max_cells: int = 20_000_000

    @property
    def max_lines(self) -> int:
        """Lines a CSV table may have: room for blank lines and quoted line breaks."""
        return 2 * self.max_rows + 1000


DEFAULT = Limits()


class LimitError(ScenarioError):
    """An input passed a limit: reading stopped there."""


def refuse(file: str, row: int, message: str) -> LimitError:
    """The error of one passed limit."""
    return LimitError([Problem(file, row, "-", message)])


def check_lines(data: bytes, file: str, limits: Limits = DEFAULT) -> None:
    """Refuse a CSV table with more lines than ``limits`` allow, before parsing it."""
    lines = data.count(b"\n")
    if lines > limits.max_lines:
        raise refuse(
            file,
            0,
            f"too many lines ({lines}); a table may have at most {limits.max_rows} rows",
        )


def open_zip(
    data: bytes, name: str, limits: Limits = DEFAULT, what: str = "a zip archive"
) -> zipfile.ZipFile:
    """A zip archive whose members were checked against ``limits`` (by their declared sizes).

    Reading a member with ``read_member`` checks the real size again.
    Raises ``ScenarioError`` (``LimitError`` for a passed limit).
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except UNREADABLE_ZIP as e:
        raise ScenarioError([Problem(name, 0, "-", f"not {what} ({e})")]) from None
    if len(infos) > limits.max_members:
        raise refuse(name, 0, f"too many files in the archive (over {limits.max_members})")
    total = 0
    for info in infos:
        total += info.file_size
        packed = max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * packed:
            raise refuse(
                f"{name}/{info.filename}",
                0,
                f"packed too tightly ({info.file_size // packed}:1; at most"
                f" {limits.max_ratio}:1): refused as a possible zip bomb",
            )
    if total > limits.max_unpacked:
        raise refuse(name, 0, f"too large once unpacked (over {limits.max_unpacked // 2**20} MiB)")
    return zf


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> bytes:
    """One member's bytes, read in chunks and stopped past its declared size or the limit."""
    cap = min(info.file_size, limits.max_unpacked)
    chunks, size = [], 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(2**16):
                size += len(chunk)
                if size > cap:
                    raise refuse(f"{name}/{info.filename}", 0, "larger than its archive says")
                chunks.append(chunk)
    except ScenarioError:
        raise
    except UNREADABLE_ZIP as e:
        raise ScenarioError(
            [Problem(f"{name}/{info.filename}", 0, "-", f"cannot be unpacked ({e})")]
        ) from None
    return b"".join(chunks)
