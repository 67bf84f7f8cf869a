"""A .qdpx is bounded by how far it unpacks before anything of it is parsed."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from functools import cache

import pytest

from pipeline.refi.read import RefiError, read_project
from pipeline.refi.write import source_guid

MIB = 1 << 20
SOURCES = 6
SOURCE_MIB = 250


@cache
def zeros_deflated() -> tuple[bytes, int]:
    """Return 250 MiB of spaces, raw-deflated, and their CRC-32."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * MIB
    parts, crc = [], 0
    for _ in range(SOURCE_MIB):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def bomb() -> bytes:
    """A project of six 250 MiB texts that zips to under 2 MB (zipfile would take minutes)."""
    guids = [source_guid(f"{i:064x}") for i in range(SOURCES)]
    sources = "".join(
        f'<TextSource guid="{g}" name="s{i}.txt" plainTextPath="internal://{g}.txt"/>'
        for i, g in enumerate(guids)
    )
    qde = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
        f'name="bomb"><Sources>{sources}</Sources></Project>'
    ).encode()
    packed, crc = zeros_deflated()
    members = [("project.qde", zlib.compress(qde, 9)[2:-4], zlib.crc32(qde), len(qde))]
    members += [(f"sources/{g}.txt", packed, crc, SOURCE_MIB * MIB) for g in guids]
    body, directory = b"", b""
    for name, data, checksum, size in members:
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 33, checksum, len(data), size, len(encoded), 0
        )
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            33,
            checksum,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            len(body),
        )
        directory += encoded
        body += header + encoded + data
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return body + directory + end


def test_a_small_project_that_unpacks_to_gigabytes_is_refused_within_little_memory() -> None:
    data = bomb()
    assert len(data) < 2 * MIB
    tracemalloc.start()
    try:
        with pytest.raises(RefiError) as refused:
            read_project(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "unpacks to more than" in str(refused.value) and "the project: " in str(refused.value)
    assert "possible zip bomb" in str(refused.value)
    assert peak < 64 * MIB  # each 250 MiB text was read whole before
