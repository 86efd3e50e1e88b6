from __future__ import annotations

import pytest

from checker.errors import InputError
from checker.textio import check_text, decode_bytes, read_text_file

SAMPLES = [
    "Pemerintah Indonesia saat ini tengah melakukan finalisasi nota kesepahaman.",
    "Le café était très fréquenté; « déjà » vu, naïve œuvre.",
    "Straße, Grüße, “quotes” and – dashes — everywhere…",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_decodes_common_encodings(text, encoding) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        pytest.skip("not representable")  # e.g. none of these samples, kept for new ones
    assert decode_bytes(data) == text


@pytest.mark.parametrize(
    "data,message",
    [
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"\xef\xbb\xbf\xff\xfe\xfd", "not valid utf-8-sig"),
    ],
)
def test_refuses_binary(data, message) -> None:
    with pytest.raises(InputError, match=message):
        decode_bytes(data)


def test_check_text() -> None:
    assert check_text("ok", 10) == "ok"
    for bad, msg in [
        ("", "empty"),
        (" \n", "empty"),
        ("x" * 11, "too large"),
        ("a\x01\x02\x03\x04", "binary"),
    ]:
        with pytest.raises(InputError, match=msg):
            check_text(bad, 10)


def test_read_text_file_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_text_file(tmp_path / "missing.txt", 100)
    with pytest.raises(InputError, match="directory"):
        read_text_file(tmp_path, 100)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 1000)
    with pytest.raises(InputError, match="too large"):
        read_text_file(big, 100)


@pytest.mark.parametrize(
    "text,encoding",
    [
        ("Президент России Владимир Путин провёл телефонный разговор с Джоко Видодо.", "cp1251"),
        ("Zażółć gęślą jaźń, powiedział minister zdrowia w środę.", "cp1250"),
        ("Une réunion « très » attendue s’est tenue à Paris, déjà.", "cp1252"),
    ],
)
def test_short_legacy_lines_of_a_jsonl_file(text, encoding) -> None:
    # One JSON line alone is little evidence; Windows-1252 wins ties but not against clear evidence.
    line = ('{"title": "x", "text": "' + text + '"}').encode(encoding)
    assert text in decode_bytes(line)
