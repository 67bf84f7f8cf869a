"""Bounded reading of zip archives from outside (review sheets, REFI-QDA projects).

A small file can unpack to gigabytes (a zip bomb). :func:`check_zip` inflates every member once,
in chunks, counting bytes, and refuses the archive as soon as it unpacks to more than its limits
allow — before any parser (openpyxl, lxml) sees it. Declared sizes in the archive are not
trusted: they are what a hostile file lies about.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from pipeline.errors import DshiftError

CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """How far an archive may unpack.

    Attributes:
        max_bytes: the most all members may unpack to together.
        max_ratio: the most they may unpack to per byte of the archive (real spreadsheets and
            projects inflate 3 to 20 times; bombs thousands of times). Archives that unpack to
            less than ``floor_bytes`` are never refused for their ratio.
        max_members: the most members the archive may hold.
        max_member_bytes: the most one member may unpack to.

    The ratio is held per member too, against the member's own packed size: padding an
    archive with incompressible data buys its bomb no room.
    """

    max_bytes: int = 1 << 30
    max_ratio: int = 100
    floor_bytes: int = 32 << 20
    max_members: int = 10_000
    max_member_bytes: int = 1 << 30

    def budget(self, packed: int) -> int:
        """How far data packed into ``packed`` bytes may unpack."""
        return min(self.max_bytes, max(self.floor_bytes, self.max_ratio * packed))


SHEET_LIMITS = ZipLimits(max_bytes=256 << 20, max_member_bytes=32 << 20)
PROJECT_LIMITS = ZipLimits()


def check_zip(data: bytes, what: str, limits: ZipLimits = PROJECT_LIMITS) -> None:
    """Refuse ``data`` unless it is a zip archive that unpacks within ``limits``.

    Args:
        data: the archive's bytes.
        what: how to name the file in an error, e.g. its path.
        limits: the bounds to hold it to.

    Raises:
        DshiftError: not a zip archive, damaged, or larger unpacked than allowed.
    """
    budget = limits.budget(len(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > limits.max_members:
                raise DshiftError(
                    f"{what}: the archive holds {len(members):,} files, more than "
                    f"{limits.max_members:,}",
                    "this is not a file dshift or a CAQDAS program wrote; export it again",
                    code="bad-file",
                )
            total = 0
            for member in members:
                if member.is_dir():
                    continue
                own = min(limits.budget(member.compress_size), limits.max_member_bytes)
                size = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(CHUNK):
                        total += len(chunk)
                        size += len(chunk)
                        if total > budget or size > own:
                            limit, packed = (
                                (budget, len(data))
                                if total > budget
                                else (
                                    own,
                                    member.compress_size,
                                )
                            )
                            raise DshiftError(
                                f"{what}: '{member.filename}' unpacks to more than "
                                f"{limit >> 20:,} MiB from {packed:,} bytes",
                                "refused as a possible zip bomb; if the file is genuine, split "
                                "it into smaller projects or sheets",
                                code="bad-file",
                            )
    except DshiftError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise DshiftError(
            f"{what}: not a readable zip archive ({exc})",
            "the file is damaged or of another kind; export it again from the program that made it",
            code="bad-file",
        ) from None
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression, encryption
        raise DshiftError(
            f"{what}: the archive cannot be read ({exc})",
            "save it again without encryption or unusual compression",
            code="bad-file",
        ) from None
