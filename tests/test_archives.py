"""Bounded reading of zip archives: bombs are refused before any parser sees them."""

from __future__ import annotations

import io
import zipfile

import pytest

from pipeline.archives import SHEET_LIMITS, ZipLimits, check_zip
from pipeline.errors import DshiftError


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_ordinary_archive_passes() -> None:
    check_zip(_zip({"a.xml": b"<a/>" * 1000, "b.txt": b"Islamabad, 15 April"}), "x")


def test_a_bomb_is_refused_at_the_default_sheet_limits() -> None:
    data = _zip({"xl/worksheets/sheet1.xml": bytes(40 << 20)})
    assert len(data) < 100_000
    with pytest.raises(DshiftError, match=r"sheet1\.xml' unpacks to more than 32 MiB"):
        check_zip(data, "review.xlsx", SHEET_LIMITS)


def test_a_bomb_spread_over_many_members_is_refused() -> None:
    data = _zip({f"s{i}.txt": bytes(1 << 20) for i in range(6)})
    with pytest.raises(DshiftError, match="more than 4 MiB"):
        check_zip(data, "p.qdpx", ZipLimits(max_bytes=4 << 20, max_ratio=10**9))


def test_too_many_members_and_damaged_files_are_refused() -> None:
    with pytest.raises(DshiftError, match="holds 11 files"):
        check_zip(_zip({f"{i}": b"" for i in range(11)}), "p", ZipLimits(max_members=10))
    with pytest.raises(DshiftError, match="not a readable zip archive"):
        check_zip(b"PK\x03\x04 not really", "p.qdpx")
    truncated = _zip({"a.txt": b"abc" * 10_000})[:-40]
    with pytest.raises(DshiftError, match=r"p\.qdpx"):
        check_zip(truncated, "p.qdpx")


def test_padding_with_incompressible_data_buys_a_bomb_no_room() -> None:
    import random

    noise = random.Random(20011).randbytes(3 << 20)  # does not compress: 3 MB packed
    data = _zip({"pad.bin": noise, "xl/worksheets/sheet1.xml": bytes(250 << 20)})
    assert len(data) > 3 << 20  # the whole archive's ratio alone would allow 300 MB
    with pytest.raises(DshiftError, match=r"sheet1\.xml' unpacks to more than 32 MiB"):
        check_zip(data, "review.xlsx", SHEET_LIMITS)


def test_one_member_may_not_exceed_its_own_cap() -> None:
    import random

    noise = random.Random(7).randbytes(2 << 20)
    with pytest.raises(DshiftError, match="more than 1 MiB"):
        check_zip(_zip({"a.bin": noise}), "x", ZipLimits(max_member_bytes=1 << 20))
