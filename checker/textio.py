"""Turn user-supplied bytes and strings into text we can scan, or a clear error.

Real corpora mix UTF-8 with Windows-1252 and worse, so bytes that are not valid UTF-8 go through
charset-normalizer instead of failing or being silently mangled. Real web text also carries a few stray
NUL and control characters: they are replaced one for one (so every offset into the text stays an
offset into the original) and the text is scanned. Data that is mostly not text (binary files, no
plausible encoding), lone surrogates (not Unicode at all) and empty or oversized input raise
:class:`~checker.errors.InputError`.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from checker.errors import InputError

# Byte-order marks and the encoding each announces; UTF-32 LE before UTF-16 LE (it starts with the same
# two bytes). Files (decode_bytes) and fetched pages (worker.fetch) both read them here.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# How much more "chaos" (charset-normalizer's mess ratio) Windows-1252 may show and still be preferred.
CP1252_CHAOS_TOLERANCE = 0.1
# Share of control characters (other than tab, newline, CR, VT, FF) above which decoded "text" is
# binary. Random bytes hold about 10% of them (27 of 256 values); text with stray NULs holds a few per
# thousand at most.
MAX_CONTROL_SHARE = 0.05
_CONTROLS = "".join(map(chr, [*range(0x09), *range(0x0E, 0x20)]))
_CONTROL_RE = re.compile(f"[{re.escape(_CONTROLS)}]")
# What a NUL becomes: PostgreSQL cannot store NUL in text, and U+FFFD (the replacement character) is
# what a reader expects where a character was lost. Like NUL, the matcher reads it as a separator.
NUL_REPLACEMENT = "\ufffd"
# Lone surrogates (U+D800-U+DFFF) are not characters: JSON's "\ud800" escape and Python strings can
# hold them, but no encoding can store them (the database insert fails). Unlike stray NULs they never
# come from real text, only from a broken encoder, so they are refused with their position.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None."""
    if text.isascii():
        return None
    found = _SURROGATE_RE.search(text)
    return found.start() if found else None


def refuse_lone_surrogates(text: str, what: str = "text") -> None:
    """InputError naming the first lone surrogate in ``text`` and where it is, if there is one."""
    at = lone_surrogate(text)
    if at is not None:
        raise InputError(
            f"{what} contains a lone surrogate (U+{ord(text[at]):04X} at character {at + 1:,}), "
            "which is not valid Unicode; re-export the data as UTF-8"
        )


def bom_encoding(data: bytes) -> tuple[str, str] | None:
    """``(codec, encoding)`` of the byte-order mark ``data`` starts with: the codec decodes the bytes
    without the mark (``utf-8-sig``; the UTF-16/32 codecs drop theirs), the encoding is its name."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return ("utf-8-sig" if encoding == "utf-8" else encoding), encoding
    return None


def decode_bytes(data: bytes, what: str = "input") -> str:
    """Decode ``data``: BOM, then strict UTF-8, then charset-normalizer's best guess."""
    if (marked := bom_encoding(data)) is not None:
        codec, _ = marked
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{what} starts with a {codec} byte-order mark but is not valid {codec}"
            ) from exc
    head = data[:65536]
    if head.count(0) > MAX_CONTROL_SHARE * len(head):
        raise InputError(
            f"{what} looks like a binary file (it is full of NUL bytes), not text "
            "(UTF-16 text needs a byte-order mark)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data[:1_000_000])
    best = matches.best()
    if best is None or best.encoding is None:
        raise InputError(f"{what} is not text in any encoding we recognise (binary data?)")
    # Short texts leave charset-normalizer several equally plausible single-byte code pages (cp1250,
    # cp1252, cp1257 ... tie on a French sentence). Windows-1252 is by far the most common legacy
    # encoding on the web, so it wins unless it reads clearly worse.
    for m in matches:
        if m.encoding == "cp1252" and m.chaos <= best.chaos + CP1252_CHAOS_TOLERANCE:
            return data.decode("cp1252", errors="replace")
    return data.decode(best.encoding, errors="replace")


def clean_text(text: str) -> str:
    """``text`` with each NUL replaced by :data:`NUL_REPLACEMENT`: the same length, the same offsets."""
    return text.replace("\x00", NUL_REPLACEMENT) if "\x00" in text else text


def check_text(text: str, max_chars: int, what: str = "text") -> str:
    """``text`` cleaned (:func:`clean_text`) if it is usable; raise InputError saying why not."""
    if len(text) > max_chars:
        raise InputError(f"{what} is too large: {len(text):,} characters (the limit is {max_chars:,})")
    if not text.strip("\x00 \t\n\r\x0b\x0c"):
        raise InputError(f"{what} is empty")
    sample = text[:100_000]
    # One memchr per control character finds none in real text far faster than a regex scan.
    if any(c in sample for c in _CONTROLS) and len(_CONTROL_RE.findall(sample)) > MAX_CONTROL_SHARE * len(
        sample
    ):
        raise InputError(f"{what} looks like binary data, not text")
    refuse_lone_surrogates(text, what)
    return clean_text(text)


def read_text_file(path: str | Path, max_chars: int) -> str:
    """Read a text file in any encoding, with clear errors for missing, empty, binary or huge files."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file")
    size = p.stat().st_size
    # Most encodings need at most 4 bytes per character.
    if size > 4 * max_chars:
        raise InputError(f"{p}: file is too large ({size:,} bytes; the limit is {max_chars:,} characters)")
    return check_text(decode_bytes(p.read_bytes(), str(p)), max_chars, str(p))
